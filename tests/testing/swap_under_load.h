// The hot-swap-under-load harness of the engine tests (rule sets, model bundles): swap on a
// second thread while batches stream in, then check that every transaction came out once and
// gather which version scored each batch. Header-only templates over the engine's types, so
// this library still depends on core only. Each call owns its thread; not shared.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace fw::testing {

// Calls swap(i) for i = 1, 2, ... on a second thread while submit() runs on this one; after
// submit() returns, lets it go on until `min_swaps` calls returned true (it counts only those),
// waiting on that counter with a generous deadline instead of sleeping, then stops and joins
// it. Returns how many calls returned true.
template <typename Swap, typename Submit>
int swap_while_submitting(Swap&& swap, Submit&& submit, int min_swaps = 3) {
  std::atomic<bool> done{false};
  std::atomic<int> swaps{0};
  std::thread swapping([&] {
    for (int i = 1; !done.load(); ++i) {
      if (swap(i)) swaps.fetch_add(1);
      std::this_thread::yield();
    }
  });
  submit();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (swaps.load() < min_swaps && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  done = true;
  swapping.join();
  return swaps.load();
}

struct BatchVersions {
  size_t transactions = 0;                           // distinct transaction ids seen
  std::map<uint64_t, std::set<std::string>> by_seq;  // source batch -> versions that scored it
};

// Walks every scored transaction of `pieces` (ScoredBatch: seq, scored[].tx.id), expecting
// each id once, and records version_of(scored) per batch; version_of may check the decision.
template <typename Pieces, typename VersionOf>
BatchVersions versions_by_batch(const Pieces& pieces, VersionOf&& version_of) {
  std::set<std::string> ids;
  BatchVersions out;
  for (const auto& p : pieces) {
    for (const auto& s : p.scored) {
      EXPECT_TRUE(ids.insert(s.tx.id).second) << "scored twice: " << s.tx.id;
      out.by_seq[p.seq].insert(version_of(s));
    }
  }
  out.transactions = ids.size();
  return out;
}

}  // namespace fw::testing
