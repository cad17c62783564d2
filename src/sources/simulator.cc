#include "sources/simulator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sources/simulator_internal.h"

namespace fw {
namespace sim {

// Home and visited places. Offsets are standard time (no daylight saving; docs/simulator.md).
const std::vector<CountryInfo> kCountries = {
    {{'D', 'E'}, Currency::of("EUR"), 1.0, 84},     {{'F', 'R'}, Currency::of("EUR"), 1.0, 90},
    {{'G', 'B'}, Currency::of("GBP"), 0.85, 81},    {{'E', 'S'}, Currency::of("EUR"), 1.0, 88},
    {{'I', 'T'}, Currency::of("EUR"), 1.0, 93},     {{'N', 'L'}, Currency::of("EUR"), 1.0, 145},
    {{'P', 'L'}, Currency::of("PLN"), 4.3, 83},     {{'S', 'E'}, Currency::of("SEK"), 11.3, 78},
    {{'C', 'H'}, Currency::of("CHF"), 0.95, 85},    {{'U', 'S'}, Currency::of("USD"), 1.08, 68},
    {{'J', 'P'}, Currency::of("JPY"), 160.0, 126},  {{'B', 'R'}, Currency::of("BRL"), 5.5, 177},
    {{'I', 'N'}, Currency::of("INR"), 90.0, 117},   {{'N', 'G'}, Currency::of("NGN"), 1600.0, 102},
    {{'I', 'D'}, Currency::of("IDR"), 17000.0, 36}, {{'M', 'X'}, Currency::of("MXN"), 18.5, 187},
    {{'T', 'H'}, Currency::of("THB"), 38.0, 49},
};

const std::vector<City> kCities = {
    {"Berlin", 0, 52.520, 13.405, 60, 8},     {"Munich", 0, 48.137, 11.575, 60, 6},
    {"Hamburg", 0, 53.551, 9.993, 60, 5},     {"Paris", 1, 48.857, 2.352, 60, 9},
    {"Lyon", 1, 45.764, 4.836, 60, 4},        {"London", 2, 51.507, -0.128, 0, 9},
    {"Manchester", 2, 53.481, -2.243, 0, 4},  {"Madrid", 3, 40.417, -3.704, 60, 5},
    {"Barcelona", 3, 41.385, 2.173, 60, 4},   {"Rome", 4, 41.903, 12.496, 60, 4},
    {"Milan", 4, 45.464, 9.190, 60, 4},       {"Amsterdam", 5, 52.368, 4.904, 60, 5},
    {"Warsaw", 6, 52.230, 21.012, 60, 5},     {"Stockholm", 7, 59.329, 18.069, 60, 3},
    {"Zurich", 8, 47.377, 8.542, 60, 3},      {"New York", 9, 40.713, -74.006, -300, 5},
    {"Chicago", 9, 41.878, -87.630, -360, 3}, {"Los Angeles", 9, 34.052, -118.244, -480, 3},
    {"Tokyo", 10, 35.676, 139.650, 540, 4},   {"Sao Paulo", 11, -23.551, -46.633, -180, 2},
    {"Mumbai", 12, 19.076, 72.878, 330, 2},   {"Lagos", 13, 6.524, 3.379, 60, 0},
    {"Jakarta", 14, -6.208, 106.846, 420, 0}, {"Mexico City", 15, 19.433, -99.133, -360, 0},
    {"Bangkok", 16, 13.756, 100.502, 420, 0},
};

const std::array<CategoryInfo, kCategoryCount> kCategoryInfo = {{
    {"grocery", 5411, 35, 0.7, 0.97, 25, true, false},
    {"restaurant", 5812, 28, 0.6, 0.92, 15, true, false},
    {"fuel", 5541, 55, 0.4, 1.0, 8, true, false},
    {"clothing", 5651, 60, 0.8, 0.6, 6, true, false},
    {"electronics", 5732, 150, 1.0, 0.35, 3, true, false},
    {"pharmacy", 5912, 20, 0.6, 0.9, 4, true, false},
    {"online_retail", 5999, 40, 0.9, 0.0, 10, true, true},
    {"travel", 4511, 250, 0.8, 0.0, 1, true, true},
    {"hotel", 7011, 180, 0.7, 0.5, 1, true, false},
    {"entertainment", 7832, 25, 0.5, 0.7, 4, true, false},
    {"utilities", 4900, 80, 0.6, 0.0, 5, true, true},
    {"telecom", 4814, 40, 0.4, 0.0, 3, true, true},
    {"atm", 6011, 100, 0.6, 1.0, 6, true, false},
    {"transfer", 0, 200, 1.0, 0.0, 6, false, false},
    {"cash_deposit", 0, 300, 0.9, 1.0, 1, false, false},
    {"gambling", 7995, 60, 1.0, 0.0, 0.15, true, true},
    {"crypto", 6051, 200, 1.2, 0.0, 0.1, true, true},
    {"money_transfer", 4829, 150, 1.0, 0.3, 0.15, true, false},
    {"jewelry", 5944, 300, 1.0, 0.8, 0.1, true, false},
    {"gift_cards", 5947, 50, 0.7, 0.5, 0.15, true, false},
}};

namespace {

// Share of merchants per category (categories without merchants: 0).
constexpr std::array<double, kCategoryCount> kMerchantShare = {
    20, 20, 8, 10, 6, 6, 8, 2, 4, 6, 2, 1, 8, 0, 0, 1, 0.7, 1, 1.5, 1.5};

// Relative activity by local hour (standard, early riser, night owl); normalised at start-up.
constexpr double kHourProfile[kHourProfiles][24] = {
    {0.2, 0.1, 0.05, 0.05, 0.05, 0.15, 0.4, 0.8, 1.1, 1.2, 1.3, 1.5,
     1.8, 1.6, 1.3,  1.3,  1.4,  1.7,  1.9, 1.7, 1.3, 0.9, 0.6, 0.35},
    {0.1, 0.05, 0.05, 0.05, 0.2, 0.6, 1.2, 1.6, 1.7, 1.6, 1.5, 1.5,
     1.7, 1.5,  1.3,  1.3,  1.4, 1.5, 1.3, 0.9, 0.6, 0.4, 0.2, 0.15},
    {1.0, 0.8, 0.5, 0.3, 0.1, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0,
     1.3, 1.3, 1.2, 1.2, 1.3, 1.5,  1.7, 1.9, 2.0, 2.0, 1.8, 1.4}};
// Monday .. Sunday.
constexpr double kWeekday[7] = {0.95, 0.95, 1.0, 1.0, 1.15, 1.25, 0.75};
constexpr double kPayDayBoost = 1.5;  // spending on pay day and the two days after

constexpr int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void append_digits(std::string& s, uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n < width) buf[n++] = '0';
  while (n > 0) s.push_back(buf[--n]);
}

void append_hex(std::string& s, uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[16];
  for (int i = 15; i >= 0; --i) {
    buf[i] = kHex[v & 15];
    v >>= 4;
  }
  s.append(buf, 16);
}

double round5(double v) { return std::round(v * 1e5) / 1e5; }

}  // namespace

NormalTable::NormalTable() {
  static const std::array<double, 4097> table = [] {
    std::array<double, 4097> q{};
    for (size_t i = 0; i < q.size(); ++i) {
      double p = (static_cast<double>(i) + 0.5) / static_cast<double>(q.size());
      double lo = -9, hi = 9;
      for (int it = 0; it < 80; ++it) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      q[i] = 0.5 * (lo + hi);
    }
    return q;
  }();
  q_ = table;
}

void AliasTable::build(const std::vector<double>& weights) {
  size_t n = weights.size();
  prob_.assign(n, 0);
  alias_.assign(n, 0);
  double total = 0;
  for (double w : weights) total += w;
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (uint32_t i : large) prob_[i] = 1.0, alias_[i] = i;
  for (uint32_t i : small) prob_[i] = 1.0, alias_[i] = i;
}

}  // namespace sim

using sim::Customer;
using sim::Event;
using sim::kCategoryInfo;
using sim::kCities;
using sim::kCountries;
using sim::Merchant;
using sim::Rng;

namespace {

// Per-run constants derived from the tables.
struct Tables {
  double hour[sim::kHourProfiles][24];
  double max_factor;
  Tables() {
    double max_hour = 0;
    for (int p = 0; p < sim::kHourProfiles; ++p) {
      double sum = 0;
      for (double v : sim::kHourProfile[p]) sum += v;
      for (int h = 0; h < 24; ++h) {
        hour[p][h] = sim::kHourProfile[p][h] * 24.0 / sum;
        max_hour = std::max(max_hour, hour[p][h]);
      }
    }
    double max_dow = *std::max_element(std::begin(sim::kWeekday), std::end(sim::kWeekday));
    max_factor = max_hour * max_dow * sim::kPayDayBoost;
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}

// Local calendar date of a local day number, with a small cache (few distinct days in flight).
struct LocalDate {
  int64_t days = INT64_MIN;
  int32_t month_index = 0;  // y * 12 + m
  uint8_t dom = 0;
  uint8_t dow = 0;  // 0 = Monday
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Population.

Simulator::State::State(const SimulatorConfig& c)
    : config(c),
      salt(mix64(c.seed ^ 0x51a7e5eedULL)),
      legit_rng(c.seed),
      fraud_rng(c.seed ^ 0xf4a0d0f4a0d0ULL),
      label_rng(c.seed ^ 0x1abe11abe1ULL),
      now(c.start),
      candidate_ts(c.start),
      next_synthetic_account(c.customers) {
  Rng rng(c.seed ^ 0x9090a7a7ULL);
  const Tables& t = tables();

  std::vector<double> city_w, merchant_city_w;
  for (const auto& city : kCities) {
    city_w.push_back(city.weight);
    merchant_city_w.push_back(city.weight + 1.0);
  }
  sim::AliasTable city_pick, merchant_city_pick, merchant_cat_pick;
  city_pick.build(city_w);
  merchant_city_pick.build(merchant_city_w);
  merchant_cat_pick.build(
      std::vector<double>(sim::kMerchantShare.begin(), sim::kMerchantShare.end()));

  customers.resize(c.customers);
  std::vector<double> activity(c.customers);
  for (size_t i = 0; i < c.customers; ++i) {
    Customer& cu = customers[i];
    cu.city = static_cast<uint16_t>(city_pick.sample(rng));
    cu.country = kCities[cu.city].country;
    cu.home_lat = kCities[cu.city].lat + 0.06 * normal.sample(rng);
    cu.home_lon = kCities[cu.city].lon + 0.09 * normal.sample(rng);
    cu.income = static_cast<float>(std::exp(0.5 * normal.sample(rng)));
    double r = rng.uniform();
    cu.hour_profile = r < 0.7 ? 0 : (r < 0.85 ? 1 : 2);
    cu.pay_day =
        static_cast<uint8_t>(rng.chance(0.5) ? (rng.chance(0.5) ? 1 : 15) : rng.between(1, 28));
    cu.n_devices = static_cast<uint8_t>(rng.between(1, 3));
    cu.dormant = rng.chance(0.03);
    activity[i] =
        cu.dormant ? 0.01 : std::clamp(2.5 * std::exp(0.7 * normal.sample(rng)), 0.2, 20.0);
    double cum = 0;
    for (int k = 0; k < sim::kCategoryCount; ++k) {
      cum += kCategoryInfo[k].weight * std::exp(0.5 * normal.sample(rng));
      cu.cum_weight[k] = static_cast<float>(cum);
    }
    (cu.dormant ? dormant : active).push_back(static_cast<uint32_t>(i));
  }
  if (active.empty()) {  // tiny populations: keep fraud scenarios possible
    active.push_back(0);
  }
  double total_activity = 0;
  for (double a : activity) total_activity += a;
  customer_pick.build(activity);
  mean_gap_us = static_cast<double>(kMicrosPerDay) / (total_activity * t.max_factor);

  merchants.resize(c.merchants);
  by_city_category.resize(kCities.size() * sim::kCategoryCount);
  // The first merchants cover every merchant category, the rest follow the shares.
  std::vector<uint8_t> merchant_cats;
  for (int k = 0; k < sim::kCategoryCount; ++k) {
    if (kCategoryInfo[k].has_merchant) merchant_cats.push_back(static_cast<uint8_t>(k));
  }
  for (size_t i = 0; i < c.merchants; ++i) {
    Merchant& m = merchants[i];
    m.category = i < merchant_cats.size() ? merchant_cats[i]
                                          : static_cast<uint8_t>(merchant_cat_pick.sample(rng));
    m.city = static_cast<uint16_t>(merchant_city_pick.sample(rng));
    m.lat = sim::round5(kCities[m.city].lat + 0.04 * normal.sample(rng));
    m.lon = sim::round5(kCities[m.city].lon + 0.06 * normal.sample(rng));
    m.id = "M";
    sim::append_digits(m.id, (i * 2654435761ULL + salt) % 100'000'000ULL, 8);
    const auto& info = kCategoryInfo[m.category];
    m.n_terminals = info.online_only          ? 0
                    : m.category == sim::kAtm ? static_cast<uint8_t>(rng.between(1, 2))
                                              : static_cast<uint8_t>(rng.between(1, 4));
    m.first_terminal = static_cast<uint32_t>(terminal_ids.size());
    for (int k = 0; k < m.n_terminals; ++k) {
      std::string id = "T";
      sim::append_digits(id, (terminal_ids.size() * 2654435761ULL + salt) % 1'000'000'000ULL, 9);
      terminal_ids.push_back(std::move(id));
      terminal_merchant.push_back(static_cast<uint32_t>(i));
    }
    by_city_category[m.city * sim::kCategoryCount + m.category].push_back(static_cast<uint32_t>(i));
    by_category[m.category].push_back(static_cast<uint32_t>(i));
  }

  if (c.fraud_ratio > 0) {
    const auto& all = fraud_patterns();
    for (size_t p = 0; p < all.size(); ++p) {
      if (c.patterns.empty() ||
          std::find(c.patterns.begin(), c.patterns.end(), all[p].name) != c.patterns.end()) {
        enabled_patterns.push_back(static_cast<uint8_t>(p));
      }
    }
  }
}

int64_t Simulator::State::to_minor(double eur, uint8_t country) const {
  const auto& cur = kCountries[country];
  double v = eur * cur.per_eur * static_cast<double>(cur.currency.minor_per_major());
  int64_t minor = std::llround(v);
  return std::max<int64_t>(minor, 1);
}

int64_t Simulator::State::sample_amount(Rng& rng, uint32_t customer, uint8_t category) const {
  const auto& info = kCategoryInfo[category];
  double income = customer < customers.size() ? customers[customer].income : 1.0;
  double eur = info.median_eur * std::exp(info.sigma * normal.sample(rng)) *
               std::pow(static_cast<double>(income), 0.6);
  uint8_t country = customer < customers.size() ? customers[customer].country : 0;
  return to_minor(std::min(eur, 50000.0), country);
}

uint32_t Simulator::State::pick_merchant(Rng& rng, uint8_t category, int city) const {
  if (city >= 0) {
    const auto& local =
        by_city_category[static_cast<size_t>(city) * sim::kCategoryCount + category];
    if (!local.empty()) return local[rng.below(local.size())];
  }
  const auto& all = by_category[category];
  return all[rng.below(all.size())];
}

uint32_t Simulator::State::pick_terminal(Rng& rng, uint32_t merchant) const {
  const Merchant& m = merchants[merchant];
  return m.first_terminal + static_cast<uint32_t>(rng.below(m.n_terminals));
}

uint32_t Simulator::State::home_ip(uint64_t account) const {
  uint8_t country = account < customers.size() ? customers[account].country : 0;
  uint32_t low = static_cast<uint32_t>(mix64(salt ^ (account * 0x9e37ULL + 11))) & 0xffffff;
  if ((low & 0xff) == 0) low |= 1;
  return static_cast<uint32_t>(kCountries[country].ip_octet) << 24 | low;
}

uint32_t Simulator::State::foreign_ip(Rng& rng, uint8_t country) const {
  uint32_t low = static_cast<uint32_t>(rng.next()) & 0xffffff;
  if ((low & 0xff) == 0) low |= 1;
  return static_cast<uint32_t>(kCountries[country].ip_octet) << 24 | low;
}

uint32_t Simulator::State::random_foreign_city(Rng& rng, uint8_t not_country) const {
  for (;;) {
    uint32_t c = static_cast<uint32_t>(rng.below(kCities.size()));
    if (kCities[c].country != not_country) return c;
  }
}

Event Simulator::State::base_event(uint32_t customer, Timestamp ts) const {
  Event e;
  e.ts = ts;
  e.account = customer;
  uint8_t country = customer < customers.size() ? customers[customer].country : 0;
  uint16_t city = customer < customers.size() ? customers[customer].city : 0;
  e.currency = kCountries[country].currency;
  e.country = Country{
      static_cast<uint16_t>(kCountries[country].code[0] << 8 | kCountries[country].code[1])};
  e.utc_offset = kCities[city].utc_offset_minutes;
  return e;
}

void Simulator::State::place_at_merchant(Event& e, Rng& rng, uint32_t merchant, bool card_present) {
  const Merchant& m = merchants[merchant];
  const auto& mc = kCountries[kCities[m.city].country];
  e.merchant = static_cast<int32_t>(merchant);
  e.mcc = kCategoryInfo[m.category].mcc;
  e.country = Country{static_cast<uint16_t>(mc.code[0] << 8 | mc.code[1])};
  e.card = true;
  if (card_present && m.n_terminals > 0) {
    e.card_present = true;
    e.channel = m.category == sim::kAtm ? Channel::kAtm : Channel::kPos;
    e.terminal = static_cast<int32_t>(pick_terminal(rng, merchant));
    e.has_location = true;
    e.lat = m.lat;
    e.lon = m.lon;
    e.utc_offset = kCities[m.city].utc_offset_minutes;
    e.device = 0;
    e.ip = 0;
  } else {
    e.card_present = false;
    e.channel = Channel::kEcommerce;
    e.terminal = -1;
    e.has_location = false;
  }
}

void Simulator::State::schedule(Event e, bool fraud) {
  e.order = order++;
  if (fraud) {
    e.label = Label::kFraud;
    ++fraud_scheduled;
  } else {
    e.label = Label::kLegit;
    e.pattern = 0;
  }
  if (e.ts < now) e.ts = now;
  pending.push(e);
}

void Simulator::State::start_fraud() {
  uint8_t p = enabled_patterns[fraud_rng.below(enabled_patterns.size())];
  start_pattern(*this, p);
}

// ---------------------------------------------------------------------------------------------
// Legitimate traffic and emission.

// Legitimate traffic: the thinning loop that picks who transacts when, and what they do.
class SimulatorGenerator {
 public:
  explicit SimulatorGenerator(Simulator::State& s) : s_(s) {}

  LocalDate local_date(int64_t local_days) {
    LocalDate& d = cache_[static_cast<uint64_t>(local_days) & 63];
    if (d.days != local_days) {
      int64_t y;
      unsigned m, dd;
      civil_from_days(local_days, y, m, dd);
      d.days = local_days;
      d.month_index = static_cast<int32_t>(y * 12 + (m - 1));
      d.dom = static_cast<uint8_t>(dd);
      d.dow = static_cast<uint8_t>(((local_days % 7) + 7 + 3) % 7);  // 1970-01-01 = Thursday
    }
    return d;
  }

  // Thinning of a Poisson process: candidates at the maximum rate, accepted by the customer's
  // hour-of-day, weekday and pay-day factor.
  void advance_candidate() {
    const Tables& t = tables();
    Rng& rng = s_.legit_rng;
    for (;;) {
      double gap = -std::log(rng.uniform_pos()) * s_.mean_gap_us;
      s_.candidate_ts += std::max<int64_t>(1, static_cast<int64_t>(gap));
      uint32_t c = s_.customer_pick.sample(rng);
      const Customer& cu = s_.customers[c];
      int64_t local = s_.candidate_ts + kCities[cu.city].utc_offset_minutes * kMicrosPerMinute;
      int64_t local_days = sim::floor_div(local, kMicrosPerDay);
      int hour = static_cast<int>((local - local_days * kMicrosPerDay) / kMicrosPerHour);
      LocalDate d = local_date(local_days);
      double f = t.hour[cu.hour_profile][hour] * sim::kWeekday[d.dow];
      if (d.dom >= cu.pay_day && d.dom <= cu.pay_day + 2) f *= sim::kPayDayBoost;
      if (rng.uniform() * t.max_factor < f) {
        candidate_customer_ = c;
        return;
      }
    }
  }

  uint32_t candidate_customer() const { return candidate_customer_; }

  uint64_t payee(uint32_t c, uint32_t k) const {
    uint64_t h = mix64(s_.salt ^ (static_cast<uint64_t>(c) << 8 | k));
    if (k == 3) return sim::kExternalAccountBase + h % 100'000'000ULL;
    return h % s_.customers.size();
  }

  Event legit(uint32_t c, Timestamp ts) {
    Rng& rng = s_.legit_rng;
    Customer& cu = s_.customers[c];
    Event e = s_.base_event(c, ts);
    int64_t local = ts + kCities[cu.city].utc_offset_minutes * kMicrosPerMinute;
    LocalDate d = local_date(sim::floor_div(local, kMicrosPerDay));

    // Salary on pay day.
    if (!cu.dormant && d.dom >= cu.pay_day && cu.last_paid_month != d.month_index) {
      cu.last_paid_month = d.month_index;
      e.type = TxType::kDeposit;
      e.channel = Channel::kOnlineBanking;
      e.counterparty = sim::kExternalAccountBase + 500'000'000ULL +
                       mix64(s_.salt ^ c ^ 0xe3) % 10'000'000ULL + 1;
      int64_t major = std::llround(2400.0 * cu.income * kCountries[cu.country].per_eur / 10.0) * 10;
      e.amount_minor = std::max<int64_t>(major, 10) * e.currency.minor_per_major();
      return e;
    }

    // Trips: a few days in another city, card-present spending there.
    if (cu.on_trip && ts > cu.trip_until) cu.on_trip = false;
    if (!cu.on_trip && !cu.dormant && rng.chance(0.0015)) {
      cu.on_trip = true;
      cu.trip_city = static_cast<uint16_t>(rng.below(kCities.size()));
      cu.trip_until = ts + rng.between(2, 10) * kMicrosPerDay;
    }
    int city = cu.on_trip ? cu.trip_city : cu.city;
    e.utc_offset = kCities[city].utc_offset_minutes;

    float u = static_cast<float>(rng.uniform()) * cu.cum_weight[sim::kCategoryCount - 1];
    uint8_t cat = 0;
    while (cat + 1 < sim::kCategoryCount && cu.cum_weight[cat] <= u) ++cat;
    const auto& info = kCategoryInfo[cat];
    e.amount_minor = s_.sample_amount(rng, c, cat);
    uint32_t device = sim::customer_device(c, static_cast<uint32_t>(rng.below(cu.n_devices)));
    uint32_t ip = s_.home_ip(c);

    switch (cat) {
      case sim::kTransferOut: {
        e.type = TxType::kTransfer;
        e.channel = rng.chance(0.55) ? Channel::kMobileApp : Channel::kOnlineBanking;
        e.device = device;
        e.ip = ip;
        e.counterparty = payee(c, static_cast<uint32_t>(rng.below(4))) + 1;
        if (rng.chance(0.4)) e.amount_minor = round_major(e.amount_minor, e.currency, 50);
        return e;
      }
      case sim::kCashDeposit: {
        e.type = TxType::kDeposit;
        e.channel = Channel::kBranch;
        e.has_location = true;
        e.lat = sim::round5(kCities[cu.city].lat);
        e.lon = sim::round5(kCities[cu.city].lon);
        e.utc_offset = kCities[cu.city].utc_offset_minutes;
        e.amount_minor = round_major(e.amount_minor, e.currency, 10);
        return e;
      }
      case sim::kUtilities:
      case sim::kTelecom: {
        e.type = TxType::kBillPayment;
        e.channel = rng.chance(0.5) ? Channel::kOnlineBanking : Channel::kMobileApp;
        uint32_t m = favourite(c, cat, cu.city);
        e.merchant = static_cast<int32_t>(m);
        e.mcc = info.mcc;
        e.device = device;
        e.ip = ip;
        return e;
      }
      default:
        break;
    }

    bool card_present = !info.online_only && rng.chance(info.card_present);
    uint32_t m = card_present ? favourite(c, cat, city) : favourite(c, cat, cu.city);
    s_.place_at_merchant(e, rng, m, card_present);
    if (cat == sim::kAtm) {
      e.type = TxType::kWithdrawal;
      e.amount_minor = round_major(e.amount_minor, e.currency, 10);
    } else {
      e.type = TxType::kCardPurchase;
    }
    if (!e.card_present) {
      e.channel = rng.chance(0.8) ? Channel::kEcommerce : Channel::kMobileApp;
      e.device = device;
      e.ip = ip;
      e.utc_offset = kCities[cu.city].utc_offset_minutes;
    }
    return e;
  }

  // Customers mostly return to a few favourite merchants of each category near them.
  uint32_t favourite(uint32_t c, uint8_t cat, int city) {
    Rng& rng = s_.legit_rng;
    const auto& local = s_.by_city_category[static_cast<size_t>(city) * sim::kCategoryCount + cat];
    const auto& list = local.empty() ? s_.by_category[cat] : local;
    if (rng.chance(0.75)) {
      uint64_t k = rng.below(3);
      return list[mix64(s_.salt ^ (static_cast<uint64_t>(c) << 16) ^ (cat << 4) ^ k) % list.size()];
    }
    return list[rng.below(list.size())];
  }

  static int64_t round_major(int64_t minor, Currency cur, int64_t step_major) {
    int64_t step = step_major * cur.minor_per_major();
    int64_t r = (minor + step / 2) / step * step;
    return std::max(r, step);
  }

 private:
  Simulator::State& s_;
  uint32_t candidate_customer_ = 0;
  LocalDate cache_[64];
};

namespace {

void append_account(std::string& s, uint64_t index, uint64_t salt) {
  s.append("AC");
  sim::append_digits(s, (index * 2654435761ULL + salt) % 10'000'000'000ULL, 10);
}

}  // namespace

namespace {
std::string_view pattern_name(uint8_t p) { return fraud_patterns()[p].name; }
}  // namespace

Simulator::Simulator(const SimulatorConfig& config) {
  auto v = validate(config);
  if (!v.ok()) throw std::invalid_argument("simulator config: " + v.error().message());
  s_ = std::make_unique<State>(v.value());
  gen_ = std::make_unique<SimulatorGenerator>(*s_);
  gen_->advance_candidate();
}

Simulator::~Simulator() = default;

const SimulatorConfig& Simulator::config() const { return s_->config; }
uint64_t Simulator::produced() const { return s_->produced; }
Timestamp Simulator::now() const { return s_->now; }

void Simulator::next(Transaction& tx) {
  State& s = *s_;
  Event e;
  if (!s.pending.empty() && s.pending.top().ts <= s.candidate_ts) {
    e = s.pending.top();
    s.pending.pop();
  } else {
    e = gen_->legit(gen_->candidate_customer(), s.candidate_ts);
    gen_->advance_candidate();
  }
  s.now = e.ts;
  uint64_t seq = s.produced++;

  tx.id.clear();
  tx.id.append("tx-");
  sim::append_digits(tx.id, s.config.seed, 1);
  tx.id.push_back('-');
  sim::append_digits(tx.id, seq, 1);
  tx.ts = e.ts;
  tx.account_id.clear();
  append_account(tx.account_id, e.account, s.salt);
  tx.amount = Money{e.amount_minor, e.currency};
  tx.type = e.type;
  tx.channel = e.channel;
  if (e.merchant >= 0) {
    tx.merchant_id.assign(s.merchants[static_cast<size_t>(e.merchant)].id);
  } else {
    tx.merchant_id.clear();
  }
  tx.mcc = e.mcc;
  if (e.terminal >= 0) {
    tx.terminal_id.assign(s.terminal_ids[static_cast<size_t>(e.terminal)]);
  } else {
    tx.terminal_id.clear();
  }
  tx.country = e.country;
  tx.has_location = e.has_location;
  tx.lat = e.has_location ? sim::round5(e.lat) : 0;
  tx.lon = e.has_location ? sim::round5(e.lon) : 0;
  tx.utc_offset_minutes = e.utc_offset;
  tx.device_id.clear();
  if (e.device != 0) {
    tx.device_id.push_back('d');
    sim::append_hex(tx.device_id, mix64(s.salt ^ (e.device * 0x9e3779b97f4a7c15ULL)));
  }
  tx.ip.clear();
  if (e.ip != 0) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      sim::append_digits(tx.ip, (e.ip >> shift) & 0xff, 1);
      if (shift != 0) tx.ip.push_back('.');
    }
  }
  tx.counterparty.clear();
  if (e.counterparty != 0) append_account(tx.counterparty, e.counterparty - 1, s.salt);
  tx.card_present = e.card_present;
  tx.card_token.clear();
  if (e.card) {
    tx.card_token.append("tok_");
    sim::append_hex(tx.card_token, mix64(s.salt ^ (e.account * 0xc2b2ae3d27d4eb4fULL)));
    sim::append_hex(tx.card_token, mix64(s.salt ^ (e.account * 0x165667b19e3779f9ULL + 7)));
  }
  tx.label = e.label;
  if (e.pattern != 0) {
    tx.fraud_pattern.assign(pattern_name(static_cast<uint8_t>(e.pattern - 1)));
  } else {
    tx.fraud_pattern.clear();
  }
  tx.finalize_keys();

  // Labels: every fraud, and a sample of legit transactions.
  bool labelled =
      e.label == Label::kFraud ||
      (s.config.legit_label_fraction > 0 && s.label_rng.uniform() < s.config.legit_label_fraction);
  if (labelled) {
    sim::PendingLabel pl;
    pl.at = e.ts + s.label_rng.between(s.config.min_label_delay_us, s.config.max_label_delay_us);
    pl.order = s.label_order++;
    pl.event.transaction_id = tx.id;
    pl.event.account_id = tx.account_id;
    pl.event.merchant_id = tx.merchant_id;
    pl.event.terminal_id = tx.terminal_id;
    pl.event.transaction_ts = tx.ts;
    pl.event.labelled_at = pl.at;
    pl.event.label = e.label;
    pl.event.source = e.label == Label::kFraud ? "chargeback" : "simulator";
    s.labels.push(std::move(pl));
  }

  // Fraud scenarios start whenever the scheduled fraud falls behind the target ratio.
  if (!s.enabled_patterns.empty()) {
    double target = s.config.fraud_ratio * static_cast<double>(s.produced);
    for (int guard = 0; guard < 4 && static_cast<double>(s.fraud_scheduled) < target; ++guard) {
      s.start_fraud();
    }
  }
}

void Simulator::next_batch(size_t n, std::vector<Transaction>& out) {
  size_t base = out.size();
  out.resize(base + n);
  for (size_t i = 0; i < n; ++i) next(out[base + i]);
}

void Simulator::fill_batch(size_t n, std::vector<Transaction>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) next(out[i]);
}

void Simulator::take_due_labels(std::vector<LabelEvent>& out) {
  auto& labels = s_->labels;
  while (!labels.empty() && labels.top().at <= s_->now) {
    out.push_back(std::move(const_cast<sim::PendingLabel&>(labels.top()).event));
    labels.pop();
  }
}

void Simulator::take_all_labels(std::vector<LabelEvent>& out) {
  auto& labels = s_->labels;
  while (!labels.empty()) {
    out.push_back(std::move(const_cast<sim::PendingLabel&>(labels.top()).event));
    labels.pop();
  }
}

void Simulator::skip_to(uint64_t offset) {
  if (offset < s_->produced) {
    SimulatorConfig config = s_->config;
    gen_.reset();
    s_ = std::make_unique<State>(config);
    gen_ = std::make_unique<SimulatorGenerator>(*s_);
    gen_->advance_candidate();
  }
  Transaction scratch;
  while (s_->produced < offset) next(scratch);
  auto& labels = s_->labels;
  while (!labels.empty() && labels.top().at <= s_->now) labels.pop();
}

// ---------------------------------------------------------------------------------------------
// Configuration.

Result<SimulatorConfig> validate(SimulatorConfig c) {
  if (c.customers < 10 || c.customers > 100'000'000) {
    return make_error("customers",
                      "must be between 10 and 100000000, got " + std::to_string(c.customers));
  }
  if (c.merchants < 50 || c.merchants > 10'000'000) {
    return make_error("merchants",
                      "must be between 50 and 10000000 (every category needs "
                      "merchants), got " +
                          std::to_string(c.merchants));
  }
  if (!(c.fraud_ratio >= 0 && c.fraud_ratio <= 0.5)) {
    return make_error("fraud_ratio",
                      "must be between 0 and 0.5, got " + std::to_string(c.fraud_ratio));
  }
  if (c.min_label_delay_us < 0 || c.max_label_delay_us < c.min_label_delay_us) {
    return make_error("label_delay", "need 0 <= min_label_delay <= max_label_delay");
  }
  if (!(c.legit_label_fraction >= 0 && c.legit_label_fraction <= 1)) {
    return make_error("legit_label_fraction", "must be between 0 and 1");
  }
  if (c.reporting_threshold_major <= 0) {
    return make_error("reporting_threshold", "must be positive");
  }
  std::string unknown;
  std::vector<std::string> unique;
  for (const auto& name : c.patterns) {
    bool known = false;
    for (const auto& p : fraud_patterns()) known = known || p.name == name;
    if (!known) {
      unknown += (unknown.empty() ? "'" : ", '") + name + "'";
    } else if (std::find(unique.begin(), unique.end(), name) == unique.end()) {
      unique.push_back(name);
    }
  }
  if (!unknown.empty()) {
    std::string all;
    for (const auto& p : fraud_patterns()) all += (all.empty() ? "" : ", ") + std::string(p.name);
    return make_error("patterns", "unknown fraud pattern " + unknown + "; known patterns: " + all);
  }
  c.patterns = std::move(unique);
  return c;
}

}  // namespace fw
