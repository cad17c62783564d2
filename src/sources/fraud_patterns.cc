// The fraud scenarios: each starts at the simulator's current time and schedules its
// transactions (almost all labelled fraud with the pattern's name) into the pending queue.
// docs/simulator.md describes each one and the features it should move.
#include <algorithm>
#include <cmath>

#include "sources/simulator.h"
#include "sources/simulator_internal.h"

namespace fw {

const std::vector<PatternInfo>& fraud_patterns() {
  static const std::vector<PatternInfo> kPatterns = {
      {"card_testing", "a stolen card is tested with micro amounts, then used for a large purchase",
       "3-8 e-commerce purchases of 0.50-2.50 (EUR equivalent) at online merchants 10-90 s "
       "apart from a new device, then one purchase of 400-2500 a few minutes later"},
      {"burst_velocity", "many purchases in a few minutes at different merchants",
       "8-20 e-commerce purchases of 30-300, 15-60 s apart, each at a different merchant"},
      {"account_takeover", "a new device logs in, then moves money out",
       "a small transfer from a device never seen on the account, then 1-2 large transfers "
       "(2000-12000) to new counterparties within 30 minutes"},
      {"impossible_travel", "card-present use in two places too far apart for the time between",
       "a legitimate card-present purchase at home, then 10-90 minutes later card-present "
       "purchases or withdrawals in a city more than 1500 km away"},
      {"unusual_hour", "spending in the middle of the customer's night",
       "2-4 purchases or withdrawals of 150-900 between 01:00 and 04:59 local time by a "
       "customer whose profile is daytime"},
      {"high_risk_mcc", "spending at high-risk merchant categories",
       "2-5 e-commerce payments at gambling (7995), quasi-cash/crypto (6051), money transfer "
       "(4829), jewelry (5944) or gift-card (5947) merchants, 1.5-4x the usual amount"},
      {"unexpected_international", "card-present spending abroad, in a country not visited",
       "2-4 card-present purchases or withdrawals of 80-800 in a foreign city, 10-90 min apart"},
      {"compromised_terminal",
       "a skimmed terminal: cards used there are later cloned and cashed out",
       "5-12 customers of one city pay at the same terminal within 3 days (those payments are "
       "labelled fraud: the common point of compromise), and each card is then used 1-7 days "
       "later for an ATM withdrawal of 200-800 in another city"},
      {"leaked_card", "card details leaked online: spending habits change",
       "4-10 e-commerce purchases over 2-7 days in categories the customer rarely uses, 2-5x "
       "the usual amount, at new merchants, from a new device and a foreign IP"},
      {"mule_fan_in", "a money-mule account collects from many senders and passes it on",
       "6-15 incoming deposits (type deposit, counterparty = sender) of 200-2000 from distinct "
       "senders within hours, then 1-2 transfers out of 90-98% of the total within 2 hours"},
      {"mule_fan_out", "an account spreads money to many new counterparties",
       "a large incoming deposit, then 6-15 transfers of 200-3000 to distinct new "
       "counterparties 3-20 minutes apart"},
      {"structuring", "amounts kept just under the reporting threshold",
       "3-6 cash deposits or transfers of 90-99.5% of the reporting threshold (default 10,000 "
       "in the account currency) over 1-5 days"},
      {"dormant_reactivation", "a long-dormant account suddenly moves large sums",
       "a dormant account (about one transaction in 100 days) makes 2-5 large transfers or "
       "withdrawals (1000-8000) within hours from a new device"},
      {"new_account_fraud", "a freshly opened account is used for fraud at once",
       "an account never seen before receives an opening deposit, then makes 3-8 large "
       "purchases and transfers within 2 days from a new device"},
      {"round_amount_transfers", "transfers of round amounts to new counterparties",
       "3-6 transfers of round amounts (500, 1000, 2000, 2500, 5000 EUR equivalent, rounded "
       "to 100 or 1000 in the account currency) to 1-2 new counterparties within hours"},
      {"overdraft_probing", "repeated attempts with decreasing amounts to find the limit",
       "4-8 withdrawals or purchases at one terminal or merchant 15-90 s apart, each 40-70% of "
       "the previous amount, starting at 1500-5000"},
  };
  return kPatterns;
}

namespace {

using sim::Event;
using sim::kCities;
using sim::kCountries;
using sim::Rng;

constexpr double kPi = 3.14159265358979323846;

double distance_km(double lat1, double lon1, double lat2, double lon2) {
  double p1 = lat1 * kPi / 180, p2 = lat2 * kPi / 180;
  double dp = p2 - p1, dl = (lon2 - lon1) * kPi / 180;
  double a = std::sin(dp / 2) * std::sin(dp / 2) +
             std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
  return 2 * 6371.0 * std::asin(std::sqrt(std::min(1.0, a)));
}

class Scenario {
 public:
  Scenario(Simulator::State& s, uint8_t pattern) : s_(s), r_(s.fraud_rng), p_(pattern) {}

  void run() {
    switch (p_) {
      case 0:
        card_testing();
        break;
      case 1:
        burst_velocity();
        break;
      case 2:
        account_takeover();
        break;
      case 3:
        impossible_travel();
        break;
      case 4:
        unusual_hour();
        break;
      case 5:
        high_risk_mcc();
        break;
      case 6:
        unexpected_international();
        break;
      case 7:
        compromised_terminal();
        break;
      case 8:
        leaked_card();
        break;
      case 9:
        mule_fan_in();
        break;
      case 10:
        mule_fan_out();
        break;
      case 11:
        structuring();
        break;
      case 12:
        dormant_reactivation();
        break;
      case 13:
        new_account_fraud();
        break;
      case 14:
        round_amount_transfers();
        break;
      default:
        overdraft_probing();
        break;
    }
  }

 private:
  static constexpr int64_t kSec = kMicrosPerSecond;
  static constexpr int64_t kMin = kMicrosPerMinute;
  static constexpr int64_t kHour = kMicrosPerHour;
  static constexpr int64_t kDay = kMicrosPerDay;

  uint32_t victim() { return s_.active[r_.below(s_.active.size())]; }
  uint64_t new_device() { return sim::kFraudDeviceBit | s_.next_fraud_device++; }
  uint64_t new_counterparty() {
    return sim::kExternalAccountBase + 200'000'000ULL + r_.below(100'000'000ULL) + 1;
  }
  const sim::Customer& cust(uint32_t c) const { return s_.customers[c]; }
  int64_t eur(uint32_t c, double amount) const { return s_.to_minor(amount, cust(c).country); }
  Timestamp after(Timestamp t, int64_t lo, int64_t hi) { return t + r_.between(lo, hi); }

  Event fraud(uint32_t c, Timestamp t) {
    Event e = s_.base_event(c, t);
    e.pattern = static_cast<uint8_t>(p_ + 1);
    return e;
  }
  void emit(const Event& e) { s_.schedule(e, true); }

  // A card-not-present purchase at a merchant of `category` anywhere.
  Event online_purchase(uint32_t c, Timestamp t, uint8_t category, uint64_t device, uint32_t ip) {
    Event e = fraud(c, t);
    s_.place_at_merchant(e, r_, s_.pick_merchant(r_, category, -1), false);
    e.type = TxType::kCardPurchase;
    e.channel = Channel::kEcommerce;
    e.device = device;
    e.ip = ip;
    return e;
  }
  // A card-present purchase (or ATM withdrawal) at a merchant of `category` in `city`.
  Event card_present(uint32_t c, Timestamp t, uint8_t category, int city) {
    Event e = fraud(c, t);
    s_.place_at_merchant(e, r_, s_.pick_merchant(r_, category, city), true);
    e.type = category == sim::kAtm ? TxType::kWithdrawal : TxType::kCardPurchase;
    return e;
  }
  Event transfer(uint32_t c, Timestamp t, int64_t minor, uint64_t counterparty, uint64_t device,
                 uint32_t ip) {
    Event e = fraud(c, t);
    e.type = TxType::kTransfer;
    e.channel = r_.chance(0.5) ? Channel::kMobileApp : Channel::kOnlineBanking;
    e.amount_minor = minor;
    e.counterparty = counterparty;
    e.device = device;
    e.ip = ip;
    return e;
  }
  int64_t round_to(int64_t minor, Currency cur, int64_t step_major) const {
    int64_t step = step_major * cur.minor_per_major();
    return std::max(step, (minor + step / 2) / step * step);
  }
  uint8_t pick(std::initializer_list<uint8_t> cats) {
    return *(cats.begin() + r_.below(cats.size()));
  }

  void card_testing() {
    uint32_t c = victim();
    uint64_t dev = new_device();
    uint32_t ip = s_.foreign_ip(r_, kCities[s_.random_foreign_city(r_, cust(c).country)].country);
    Timestamp t = after(s_.now, kMin, 30 * kMin);
    int n = static_cast<int>(r_.between(3, 8));
    for (int i = 0; i < n; ++i) {
      Event e = online_purchase(c, t, pick({sim::kOnlineRetail, sim::kGiftCards}), dev, ip);
      e.amount_minor = eur(c, r_.range(0.5, 2.5));
      emit(e);
      t = after(t, 10 * kSec, 90 * kSec);
    }
    t = after(t, kMin, 10 * kMin);
    Event big = online_purchase(c, t, pick({sim::kElectronics, sim::kJewelry}), dev, ip);
    big.amount_minor = eur(c, r_.range(400, 2500));
    emit(big);
  }

  void burst_velocity() {
    uint32_t c = victim();
    uint64_t dev = new_device();
    uint32_t ip = s_.home_ip(c);
    Timestamp t = after(s_.now, kMin, 30 * kMin);
    int n = static_cast<int>(r_.between(8, 20));
    int32_t last_merchant = -1;
    for (int i = 0; i < n; ++i) {
      uint8_t cat = pick(
          {sim::kElectronics, sim::kClothing, sim::kOnlineRetail, sim::kGiftCards, sim::kJewelry});
      Event e = online_purchase(c, t, cat, dev, ip);
      for (int k = 0; k < 4 && e.merchant == last_merchant; ++k) {
        e = online_purchase(c, t, cat, dev, ip);
      }
      last_merchant = e.merchant;
      e.amount_minor = eur(c, r_.range(30, 300));
      emit(e);
      t = after(t, 15 * kSec, 60 * kSec);
    }
  }

  void account_takeover() {
    uint32_t c = victim();
    uint64_t dev = new_device();
    uint8_t ip_country = r_.chance(0.5)
                             ? cust(c).country
                             : kCities[s_.random_foreign_city(r_, cust(c).country)].country;
    uint32_t ip = s_.foreign_ip(r_, ip_country);
    Timestamp t = after(s_.now, kMin, 20 * kMin);
    emit(transfer(c, t, eur(c, r_.range(1, 20)), new_counterparty(), dev, ip));
    int n = static_cast<int>(r_.between(1, 2));
    for (int i = 0; i < n; ++i) {
      t = after(t, 2 * kMin, 15 * kMin);
      double amount = std::min(r_.range(2000, 12000) * std::sqrt(cust(c).income), 25000.0);
      emit(transfer(c, t, eur(c, amount), new_counterparty(), dev, ip));
    }
  }

  void impossible_travel() {
    uint32_t c = victim();
    const auto& home = kCities[cust(c).city];
    Timestamp t = after(s_.now, kMin, 30 * kMin);
    Event first =
        card_present(c, t, pick({sim::kGrocery, sim::kRestaurant, sim::kFuel}), cust(c).city);
    first.amount_minor = s_.sample_amount(r_, c, sim::kGrocery);
    s_.schedule(first, false);  // the customer's own, legitimate purchase
    uint32_t far = s_.random_foreign_city(r_, cust(c).country);
    for (int k = 0;
         k < 8 && distance_km(home.lat, home.lon, kCities[far].lat, kCities[far].lon) < 1500; ++k) {
      far = s_.random_foreign_city(r_, cust(c).country);
    }
    t = after(t, 10 * kMin, 90 * kMin);
    int n = static_cast<int>(r_.between(1, 3));
    for (int i = 0; i < n; ++i) {
      uint8_t cat = pick({sim::kElectronics, sim::kAtm, sim::kJewelry, sim::kClothing});
      Event e = card_present(c, t, cat, static_cast<int>(far));
      e.amount_minor = eur(c, r_.range(100, 1500));
      if (cat == sim::kAtm) e.amount_minor = round_to(e.amount_minor, e.currency, 10);
      emit(e);
      t = after(t, 3 * kMin, 30 * kMin);
    }
  }

  void unusual_hour() {
    uint32_t c = victim();
    for (int k = 0; k < 16 && cust(c).hour_profile == 2; ++k) c = victim();
    int64_t offset = kCities[cust(c).city].utc_offset_minutes * kMin;
    int64_t local = s_.now + offset;
    int64_t day_start = local - ((local % kDay) + kDay) % kDay;
    Timestamp t = day_start + r_.between(1 * kHour, 4 * kHour) - offset;
    if (t < s_.now) t += kDay;
    int n = static_cast<int>(r_.between(2, 4));
    for (int i = 0; i < n; ++i) {
      Event e = card_present(c, t, sim::kAtm, cust(c).city);
      // Online when the chosen way is online or the home city has no ATM (another city could
      // be in another time zone, where it would not be night).
      if (r_.chance(0.6) || s_.merchants[static_cast<size_t>(e.merchant)].city != cust(c).city) {
        e = online_purchase(c, t, pick({sim::kElectronics, sim::kOnlineRetail}),
                            sim::customer_device(c, 0), s_.home_ip(c));
      }
      e.amount_minor = eur(c, r_.range(150, 900));
      if (e.type == TxType::kWithdrawal) e.amount_minor = round_to(e.amount_minor, e.currency, 10);
      emit(e);
      t = after(t, 2 * kMin, 15 * kMin);
    }
  }

  void high_risk_mcc() {
    uint32_t c = victim();
    uint64_t dev = r_.chance(0.5) ? new_device() : sim::customer_device(c, 0);
    Timestamp t = after(s_.now, kMin, 60 * kMin);
    int n = static_cast<int>(r_.between(2, 5));
    for (int i = 0; i < n; ++i) {
      uint8_t cat =
          pick({sim::kGambling, sim::kCrypto, sim::kMoneyTransfer, sim::kJewelry, sim::kGiftCards});
      Event e = online_purchase(c, t, cat, dev, s_.home_ip(c));
      e.amount_minor = static_cast<int64_t>(static_cast<double>(s_.sample_amount(r_, c, cat)) *
                                            r_.range(1.5, 4.0)) +
                       1;
      emit(e);
      t = after(t, 5 * kMin, 60 * kMin);
    }
  }

  void unexpected_international() {
    uint32_t c = victim();
    int city = static_cast<int>(s_.random_foreign_city(r_, cust(c).country));
    Timestamp t = after(s_.now, kHour, 3 * kHour);
    int n = static_cast<int>(r_.between(2, 4));
    for (int i = 0; i < n; ++i) {
      uint8_t cat = pick({sim::kElectronics, sim::kJewelry, sim::kAtm, sim::kClothing});
      Event e = card_present(c, t, cat, city);
      e.amount_minor = eur(c, r_.range(80, 800));
      if (cat == sim::kAtm) e.amount_minor = round_to(e.amount_minor, e.currency, 10);
      emit(e);
      t = after(t, 10 * kMin, 90 * kMin);
    }
  }

  void compromised_terminal() {
    uint8_t cat = pick({sim::kGrocery, sim::kFuel, sim::kRestaurant, sim::kAtm});
    uint32_t m = s_.pick_merchant(r_, cat, -1);
    for (int k = 0; k < 16 && s_.merchants[m].n_terminals == 0; ++k) {
      m = s_.pick_merchant(r_, cat, -1);
    }
    const sim::Merchant& merchant = s_.merchants[m];
    if (merchant.n_terminals == 0) return burst_velocity();
    int32_t terminal = static_cast<int32_t>(s_.pick_terminal(r_, m));
    Timestamp start = after(s_.now, 0, 2 * kHour);
    int n = static_cast<int>(r_.between(5, 12));
    for (int i = 0; i < n; ++i) {
      uint32_t c = victim();
      for (int k = 0; k < 64 && cust(c).city != merchant.city; ++k) c = victim();
      Event e = fraud(c, after(start, 0, 3 * kDay));
      s_.place_at_merchant(e, r_, m, true);
      e.terminal = terminal;
      e.type = cat == sim::kAtm ? TxType::kWithdrawal : TxType::kCardPurchase;
      e.amount_minor = s_.sample_amount(r_, c, cat);
      if (cat == sim::kAtm) e.amount_minor = round_to(e.amount_minor, e.currency, 10);
      emit(e);
      uint32_t other = static_cast<uint32_t>(r_.below(kCities.size()));
      if (other == merchant.city) other = (other + 1) % static_cast<uint32_t>(kCities.size());
      Event clone =
          card_present(c, after(e.ts, kDay, 7 * kDay), sim::kAtm, static_cast<int>(other));
      clone.amount_minor = round_to(eur(c, r_.range(200, 800)), clone.currency, 10);
      emit(clone);
    }
  }

  void leaked_card() {
    uint32_t c = victim();
    uint64_t dev = new_device();
    uint32_t ip = s_.foreign_ip(r_, kCities[s_.random_foreign_city(r_, cust(c).country)].country);
    Timestamp t = after(s_.now, kHour, 12 * kHour);
    int n = static_cast<int>(r_.between(4, 10));
    for (int i = 0; i < n; ++i) {
      uint8_t cat = pick(
          {sim::kElectronics, sim::kTravel, sim::kGiftCards, sim::kJewelry, sim::kOnlineRetail});
      Event e = online_purchase(c, t, cat, dev, ip);
      e.amount_minor = static_cast<int64_t>(static_cast<double>(s_.sample_amount(r_, c, cat)) *
                                            r_.range(2.0, 5.0)) +
                       1;
      emit(e);
      t = after(t, kHour, 36 * kHour);
    }
  }

  void mule_fan_in() {
    uint32_t mule = victim();
    Timestamp t = after(s_.now, 0, kHour);
    int n = static_cast<int>(r_.between(6, 15));
    int64_t total = 0;
    for (int i = 0; i < n; ++i) {
      Event e = fraud(mule, t);
      e.type = TxType::kDeposit;
      e.channel = Channel::kOnlineBanking;
      e.counterparty = r_.chance(0.5) ? r_.below(s_.customers.size()) + 1 : new_counterparty();
      e.amount_minor = eur(mule, r_.range(200, 2000));
      total += e.amount_minor;
      emit(e);
      t = after(t, 5 * kMin, 120 * kMin);
    }
    uint64_t dev = sim::customer_device(mule, 0);
    uint32_t ip = s_.home_ip(mule);
    int out = static_cast<int>(r_.between(1, 2));
    int64_t remaining = static_cast<int64_t>(static_cast<double>(total) * r_.range(0.9, 0.98));
    uint64_t to = new_counterparty();
    for (int i = 0; i < out; ++i) {
      t = after(t, 10 * kMin, 60 * kMin);
      int64_t amount = i + 1 == out ? remaining : remaining / 2;
      remaining -= amount;
      emit(transfer(mule, t, std::max<int64_t>(amount, 1), to, dev, ip));
    }
  }

  void mule_fan_out() {
    uint32_t c = victim();
    uint64_t dev = r_.chance(0.5) ? new_device() : sim::customer_device(c, 0);
    uint32_t ip = s_.home_ip(c);
    Timestamp t = after(s_.now, 0, kHour);
    int n = static_cast<int>(r_.between(6, 15));
    Event in = fraud(c, t);
    in.type = TxType::kDeposit;
    in.channel = Channel::kOnlineBanking;
    in.counterparty = new_counterparty();
    in.amount_minor = eur(c, r_.range(5000, 20000));
    emit(in);
    for (int i = 0; i < n; ++i) {
      t = after(t, 3 * kMin, 20 * kMin);
      emit(transfer(c, t, eur(c, r_.range(200, 3000)), new_counterparty(), dev, ip));
    }
  }

  void structuring() {
    uint32_t c = victim();
    Timestamp t = after(s_.now, kMin, 6 * kHour);
    int n = static_cast<int>(r_.between(3, 6));
    const Currency cur = kCountries[cust(c).country].currency;
    for (int i = 0; i < n; ++i) {
      double major =
          static_cast<double>(s_.config.reporting_threshold_major) * r_.range(0.9, 0.995);
      int64_t minor = std::llround(major) * cur.minor_per_major();
      Event e;
      if (r_.chance(0.6)) {
        e = fraud(c, t);
        e.type = TxType::kDeposit;
        e.channel = Channel::kBranch;
        e.has_location = true;
        e.lat = kCities[cust(c).city].lat;
        e.lon = kCities[cust(c).city].lon;
        e.amount_minor = minor;
      } else {
        e = transfer(c, t, minor, new_counterparty(), sim::customer_device(c, 0), s_.home_ip(c));
      }
      emit(e);
      t = after(t, 6 * kHour, 30 * kHour);
    }
  }

  void dormant_reactivation() {
    uint32_t c = s_.dormant.empty() ? victim() : s_.dormant[r_.below(s_.dormant.size())];
    uint64_t dev = new_device();
    uint32_t ip = s_.home_ip(c);
    Timestamp t = after(s_.now, kMin, 2 * kHour);
    int n = static_cast<int>(r_.between(2, 5));
    for (int i = 0; i < n; ++i) {
      int64_t amount = eur(c, r_.range(1000, 8000));
      Event e = r_.chance(0.7) ? transfer(c, t, amount, new_counterparty(), dev, ip)
                               : card_present(c, t, sim::kAtm, cust(c).city);
      if (e.type == TxType::kWithdrawal) e.amount_minor = round_to(amount / 4, e.currency, 10);
      emit(e);
      t = after(t, 5 * kMin, 60 * kMin);
    }
  }

  void new_account_fraud() {
    uint32_t tmpl = victim();  // the new account opens in this customer's country
    uint64_t account = s_.next_synthetic_account++;
    uint64_t dev = new_device();
    uint32_t ip = s_.foreign_ip(r_, cust(tmpl).country);
    Timestamp t = after(s_.now, kMin, kHour);
    Event open = fraud(tmpl, t);
    open.account = account;
    open.type = TxType::kDeposit;
    open.channel = Channel::kOnlineBanking;
    open.counterparty = new_counterparty();
    open.amount_minor = eur(tmpl, r_.range(50, 500));
    open.device = dev;
    open.ip = ip;
    emit(open);
    int n = static_cast<int>(r_.between(3, 8));
    for (int i = 0; i < n; ++i) {
      t = after(t, 10 * kMin, 8 * kHour);
      Event e = r_.chance(0.6)
                    ? online_purchase(tmpl, t, pick({sim::kElectronics, sim::kGiftCards}), dev, ip)
                    : transfer(tmpl, t, 0, new_counterparty(), dev, ip);
      e.account = account;
      e.amount_minor = eur(tmpl, r_.range(200, 1500));
      emit(e);
    }
  }

  void round_amount_transfers() {
    uint32_t c = victim();
    uint64_t dev = r_.chance(0.5) ? new_device() : sim::customer_device(c, 0);
    uint32_t ip = s_.home_ip(c);
    uint64_t to[2] = {new_counterparty(), new_counterparty()};
    const auto& country = kCountries[cust(c).country];
    Timestamp t = after(s_.now, kMin, kHour);
    int n = static_cast<int>(r_.between(3, 6));
    for (int i = 0; i < n; ++i) {
      static constexpr double kChoices[] = {500, 1000, 2000, 2500, 5000};
      double major = kChoices[r_.below(5)] * country.per_eur;
      int64_t step = major >= 1000 ? 1000 : 100;
      int64_t rounded =
          std::max<int64_t>(step, std::llround(major / static_cast<double>(step)) * step);
      emit(transfer(c, t, rounded * country.currency.minor_per_major(), to[r_.below(2)], dev, ip));
      t = after(t, 10 * kMin, 90 * kMin);
    }
  }

  void overdraft_probing() {
    uint32_t c = victim();
    Timestamp t = after(s_.now, kMin, 30 * kMin);
    int n = static_cast<int>(r_.between(4, 8));
    double amount = r_.range(1500, 5000) * std::sqrt(cust(c).income);
    bool atm = r_.chance(0.5);
    Event e = atm ? card_present(c, t, sim::kAtm, cust(c).city)
                  : online_purchase(c, t, sim::kElectronics, new_device(), s_.home_ip(c));
    for (int i = 0; i < n; ++i) {
      e.ts = t;
      e.amount_minor = eur(c, amount);
      if (atm) e.amount_minor = round_to(e.amount_minor, e.currency, 10);
      emit(e);
      amount *= r_.range(0.4, 0.7);
      t = after(t, 15 * kSec, 90 * kSec);
    }
  }

  Simulator::State& s_;
  Rng& r_;
  uint8_t p_;
};

}  // namespace

void start_pattern(Simulator::State& s, uint8_t p) { Scenario(s, p).run(); }

}  // namespace fw
