// Internals of the simulator shared by simulator.cc (population, legitimate traffic, emission)
// and fraud_patterns.cc (the fraud scenarios). Not a public API. Everything here belongs to one
// Simulator and is used by its owning thread only.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/money.h"
#include "core/time.h"
#include "model/transaction.h"
#include "sources/simulator.h"

namespace fw::sim {

// xoshiro256** seeded through splitmix64: fast, good quality, fully deterministic.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe for log().
  double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) { return uniform() < p; }
  double range(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_;
};

// Standard normal samples from a precomputed quantile table (4096 cells, linear interpolation).
class NormalTable {
 public:
  NormalTable();
  double sample(Rng& rng) const {
    uint64_t r = rng.next();
    size_t i = r >> 52;                                                  // 12 bits
    double f = static_cast<double>((r >> 20) & 0xffffffff) * 0x1.0p-32;  // 32 bits
    return q_[i] + (q_[i + 1] - q_[i]) * f;
  }

 private:
  std::array<double, 4097> q_;
};

// Walker/Vose alias table over fixed weights: O(1) weighted choice.
class AliasTable {
 public:
  void build(const std::vector<double>& weights);
  uint32_t sample(Rng& rng) const {
    uint64_t r = rng.next();
    uint32_t i = static_cast<uint32_t>((static_cast<unsigned __int128>(r) * prob_.size()) >> 64);
    double u = static_cast<double>(r & 0xffffffff) * 0x1.0p-32;
    return u < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

struct City {
  std::string_view name;
  uint8_t country;  // index into kCountries
  double lat, lon;
  int16_t utc_offset_minutes;
  double weight;  // share of the home population (0: merchants and visitors only)
};

struct CountryInfo {
  char code[3];
  Currency currency;
  double per_eur;  // rough units of currency per EUR, to scale amounts
  uint8_t ip_octet;
};

extern const std::vector<CountryInfo> kCountries;
extern const std::vector<City> kCities;

// Spending categories. The first kLegitCategories are what normal customers do; the high-risk
// ones are rare for normal customers and frequent in fraud.
enum Category : uint8_t {
  kGrocery,
  kRestaurant,
  kFuel,
  kClothing,
  kElectronics,
  kPharmacy,
  kOnlineRetail,
  kTravel,
  kHotel,
  kEntertainment,
  kUtilities,
  kTelecom,
  kAtm,
  kTransferOut,
  kCashDeposit,
  kGambling,
  kCrypto,
  kMoneyTransfer,
  kJewelry,
  kGiftCards,
  kCategoryCount
};

struct CategoryInfo {
  std::string_view name;
  uint16_t mcc;         // 0 for categories without a merchant
  double median_eur;    // median amount in EUR
  double sigma;         // log-normal sigma
  double card_present;  // probability a purchase is card-present (POS/ATM)
  double weight;        // base share of a customer's transactions
  bool has_merchant;
  bool online_only;  // merchants without terminals
};
extern const std::array<CategoryInfo, kCategoryCount> kCategoryInfo;

inline constexpr int kHourProfiles = 3;

struct Customer {
  uint16_t city;
  uint8_t country;
  uint8_t hour_profile;
  uint8_t pay_day;  // 1..28
  uint8_t n_devices;
  bool dormant;
  bool on_trip = false;
  uint16_t trip_city = 0;
  int32_t last_paid_month = -1;  // months since epoch of the last salary
  Timestamp trip_until = 0;
  float income;  // multiplier of amounts (median 1)
  double home_lat, home_lon;
  std::array<float, kCategoryCount> cum_weight;  // cumulative category weights (legit ones)
};

struct Merchant {
  std::string id;
  uint8_t category;
  uint16_t city;
  double lat, lon;
  uint32_t first_terminal;
  uint8_t n_terminals;
};

// Where a pending or legit transaction points for its strings: codes turned into strings when
// the Transaction is emitted, so events stay small.
struct Event {
  Timestamp ts = 0;
  uint64_t order = 0;    // tie-break for equal timestamps: scheduling order
  uint64_t account = 0;  // account index (population or synthetic)
  int64_t amount_minor = 0;
  int32_t merchant = -1;      // merchant index or -1
  int32_t terminal = -1;      // global terminal index or -1
  uint64_t device = 0;        // device code, 0 = none
  uint64_t counterparty = 0;  // account index + 1, 0 = none
  uint32_t ip = 0;            // IPv4, 0 = none
  double lat = 0, lon = 0;
  Currency currency;
  int16_t utc_offset = 0;
  uint16_t mcc = 0;
  Country country;
  TxType type = TxType::kCardPurchase;
  Channel channel = Channel::kPos;
  bool has_location = false;
  bool card_present = false;
  bool card = false;  // carries the account's card token
  Label label = Label::kLegit;
  uint8_t pattern = 0;  // pattern index + 1; 0 = none
};

struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return a.ts != b.ts ? a.ts > b.ts : a.order > b.order;
  }
};

struct PendingLabel {
  Timestamp at;
  uint64_t order;
  LabelEvent event;
};
struct LabelLater {
  bool operator()(const PendingLabel& a, const PendingLabel& b) const {
    return a.at != b.at ? a.at > b.at : a.order > b.order;
  }
};

// Device codes: customer devices are (account << 2 | k) + 1; fraudster devices have the top bit.
inline uint64_t customer_device(uint64_t account, uint32_t k) { return (account << 2 | k) + 1; }
inline constexpr uint64_t kFraudDeviceBit = 1ULL << 62;
// Account indexes at or above this are outside the bank (counterparties only).
inline constexpr uint64_t kExternalAccountBase = 1'000'000'000ULL;

}  // namespace fw::sim

namespace fw {

struct Simulator::State {
  explicit State(const SimulatorConfig& c);

  SimulatorConfig config;
  uint64_t salt;  // from the seed, mixed into ids
  sim::NormalTable normal;
  std::vector<sim::Customer> customers;
  std::vector<sim::Merchant> merchants;
  std::vector<std::string> terminal_ids;
  std::vector<uint32_t> terminal_merchant;
  // merchants by (city, category) and by category.
  std::vector<std::vector<uint32_t>> by_city_category;
  std::array<std::vector<uint32_t>, sim::kCategoryCount> by_category;
  sim::AliasTable customer_pick;
  std::vector<uint32_t> dormant;          // dormant customer indexes
  std::vector<uint32_t> active;           // non-dormant customer indexes
  std::vector<uint8_t> enabled_patterns;  // pattern indexes
  double mean_gap_us = 0;                 // mean gap between legit candidates

  sim::Rng legit_rng;
  sim::Rng fraud_rng;
  sim::Rng label_rng;
  uint64_t produced = 0;
  Timestamp now;
  Timestamp candidate_ts;  // time of the next legit candidate
  uint64_t order = 0;
  uint64_t fraud_scheduled = 0;
  uint64_t next_synthetic_account;
  uint64_t next_fraud_device = 0;
  std::priority_queue<sim::Event, std::vector<sim::Event>, sim::EventLater> pending;
  std::priority_queue<sim::PendingLabel, std::vector<sim::PendingLabel>, sim::LabelLater> labels;
  uint64_t label_order = 0;

  // Helpers used by the fraud scenarios (simulator.cc).
  void schedule(sim::Event e, bool fraud);
  int64_t to_minor(double eur, uint8_t country) const;
  int64_t sample_amount(sim::Rng& rng, uint32_t customer, uint8_t category) const;
  uint32_t pick_merchant(sim::Rng& rng, uint8_t category, int city) const;
  uint32_t pick_terminal(sim::Rng& rng, uint32_t merchant) const;
  uint32_t home_ip(uint64_t account) const;
  uint32_t foreign_ip(sim::Rng& rng, uint8_t country) const;
  uint32_t random_foreign_city(sim::Rng& rng, uint8_t not_country) const;
  // Fills the fields that follow from the account (currency, home country/offset, card).
  sim::Event base_event(uint32_t customer, Timestamp ts) const;
  void place_at_merchant(sim::Event& e, sim::Rng& rng, uint32_t merchant, bool card_present);
  void start_fraud();
};

// fraud_patterns.cc: starts one scenario of pattern `p` at state.now.
void start_pattern(Simulator::State& s, uint8_t p);
inline constexpr size_t kPatternCount = 16;

}  // namespace fw
