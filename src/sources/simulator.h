// Simulator: a deterministic generator of realistic card and account transactions with labelled
// fraud patterns, for demos, load tests and training data (docs/simulator.md).
// A Simulator is single-threaded: it is owned and used by one thread at a time. The free
// functions here are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/transaction.h"

namespace fw {

class SimulatorGenerator;

struct SimulatorConfig {
  uint64_t seed = 42;
  size_t customers = 20000;
  size_t merchants = 2000;
  double fraud_ratio = 0.005;  // target fraction of transactions that are fraud
  // Simulated start time (UTC): 2026-01-01T00:00:00Z.
  Timestamp start = 1767225600LL * kMicrosPerSecond;
  // Labels arrive a uniformly random delay in [min, max] after their transaction.
  int64_t min_label_delay_us = 1 * kMicrosPerDay;
  int64_t max_label_delay_us = 30 * kMicrosPerDay;
  double legit_label_fraction = 0.0;  // fraction of legit tx that also get a (legit) label
  std::vector<std::string> patterns;  // empty = all; otherwise only these fraud patterns
  // Reporting threshold in major units of the account currency (structuring stays under it).
  int64_t reporting_threshold_major = 10000;
};

// A fraud pattern the simulator can inject: its name (the tx's fraud_pattern), a one-line
// summary and how it shows in the data.
struct PatternInfo {
  std::string_view name;
  std::string_view summary;
  std::string_view how_it_shows;
};

// Every pattern, in a fixed order (for `fraudwatch simulate --list-patterns`).
const std::vector<PatternInfo>& fraud_patterns();

// Checks a config: counts, ratios, delays, and that every pattern name is known (the Error
// names the unknown ones and lists the known). Returns the config with patterns de-duplicated.
Result<SimulatorConfig> validate(SimulatorConfig config);

class Simulator {
 public:
  // REQUIRES: validate(config).ok(); throws std::invalid_argument otherwise (start-up error).
  explicit Simulator(const SimulatorConfig& config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Appends the next n transactions to out, in non-decreasing timestamp order. The sequence
  // depends only on the config, never on how it is split into batches.
  void next_batch(size_t n, std::vector<Transaction>& out);
  // The fast path: resizes out to n and overwrites every element with the next transactions,
  // reusing the strings' capacity of the elements already there.
  void fill_batch(size_t n, std::vector<Transaction>& out);
  // Overwrites `tx` with the next transaction (reusing its strings' capacity).
  void next(Transaction& tx);

  // Moves the labels that are due (labelled_at <= now()) into out, in labelled_at order.
  void take_due_labels(std::vector<LabelEvent>& out);
  // Moves every pending label into out, in labelled_at order (end of a historical run).
  void take_all_labels(std::vector<LabelEvent>& out);

  uint64_t produced() const;  // transactions produced so far = the source offset
  Timestamp now() const;      // simulated time of the last transaction produced (start before)
  // Deterministic resume: the next transaction produced is number `offset` (0-based), the same
  // one a fresh simulator would produce after `offset` transactions. Costs O(offset) when
  // going backwards or far forwards. Labels that were due at or before the resume point are
  // dropped (a previous run delivered them); later ones are kept.
  void skip_to(uint64_t offset);

  const SimulatorConfig& config() const;

  struct State;  // implementation (simulator_internal.h)

 private:
  std::unique_ptr<State> s_;
  std::unique_ptr<SimulatorGenerator> gen_;
};

}  // namespace fw
