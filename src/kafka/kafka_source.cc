#include "kafka/kafka_source.h"

#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "kafka/partition_state.h"

// GCC 12 at -O1 reports std::optional<Checkpoint>'s strings as maybe-uninitialized in
// on_assign (a known false positive with optional of aggregates).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace fw {
namespace {

using Steady = std::chrono::steady_clock;
constexpr const char* kReasonHeader = "fraudwatch-reason";

class RebalanceHandler final : public RdKafka::RebalanceCb {
 public:
  explicit RebalanceHandler(KafkaSource& source) : source_(source) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      source_.on_assign(partitions);
      RdKafka::ErrorCode e = consumer->assign(partitions);
      if (e != RdKafka::ERR_NO_ERROR)
        spdlog::error("kafka: assign failed: {}", RdKafka::err2str(e));
    } else {
      if (err != RdKafka::ERR__REVOKE_PARTITIONS) {
        spdlog::error("kafka: rebalance error: {}", RdKafka::err2str(err));
      }
      source_.on_revoke(partitions);
      consumer->unassign();
    }
  }

 private:
  KafkaSource& source_;
};

}  // namespace

KafkaSource::KafkaSource(const KafkaConfig& config, Engine& engine, StoreWriter& writer,
                         Store& store, KafkaProducer& producer)
    : config_(config), engine_(engine), writer_(writer), store_(store), producer_(producer) {}

KafkaSource::~KafkaSource() { close(); }

Status KafkaSource::start() {
  auto conf = make_conf(config_, KafkaRole::kConsumer);
  if (!conf.ok()) return conf.error();
  rebalance_cb_ = std::make_unique<RebalanceHandler>(*this);
  std::string err;
  if ((*conf)->set("rebalance_cb", rebalance_cb_.get(), err) != RdKafka::Conf::CONF_OK) {
    return make_error("kafka", "cannot install the rebalance callback: " + err);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer_) return make_error("kafka", "cannot create the consumer: " + err);
  RdKafka::ErrorCode e = consumer_->subscribe({config_.topics.transactions, config_.topics.labels});
  if (e != RdKafka::ERR_NO_ERROR) {
    return make_error("kafka", "cannot subscribe: " + RdKafka::err2str(e));
  }
  last_snapshot_ = last_sample_ = last_commit_ = Steady::now();
  spdlog::info("kafka: group '{}' reading {} and {} from {} (properties: {})", config_.group_id,
               config_.topics.transactions, config_.topics.labels, config_.brokers,
               describe_properties(config_));
  return Status::Ok();
}

void KafkaSource::on_durable(uint64_t seq) {
  int64_t s = static_cast<int64_t>(seq);
  int64_t cur = durable_seq_.load();
  while (s > cur && !durable_seq_.compare_exchange_weak(cur, s)) {
  }
}

uint64_t KafkaSource::committable_seq() const {
  // Everything up to the durable mark, minus batches whose outputs are still in flight.
  const int64_t durable = durable_seq_.load();
  if (durable < 0) return UINT64_MAX;  // none
  uint64_t upto = static_cast<uint64_t>(durable);
  const uint64_t lowest = producer_.lowest_pending_seq();
  if (lowest <= upto) {
    if (lowest == 0) return UINT64_MAX;
    upto = lowest - 1;
  }
  return upto;
}

void KafkaSource::dead_letter(const std::string& topic, int32_t partition, int64_t offset,
                              std::string_view key, std::string_view payload,
                              const std::string& field, const std::string& reason) {
  const std::string where = fmt::format("kafka:{}/{}@{}", topic, partition, offset);
  const std::string why = field.empty() ? reason : field + ": " + reason;
  spdlog::warn("{}: dead letter: {}", where, why);
  // The raw payload goes to the dead-letter topic byte for byte; the reason in a header.
  producer_.produce(config_.topics.dead_letters, key, payload,
                    {{kReasonHeader, why}, {"fraudwatch-source", where}}, engine_.next_seq());
  DeadLetter d;
  d.source = where;
  d.raw = std::string(payload.substr(0, kMaxJsonLineBytes));
  d.field = field;
  d.reason = reason;
  d.received_at = SystemClock::instance().now();
  pending_dead_.push_back(std::move(d));
  std::lock_guard lock(metrics_mu_);
  metrics_.dead_letters++;
}

void KafkaSource::handle(RdKafka::KafkaConsumer& /*consumer*/, const void* raw) {
  const auto& m = *static_cast<const RdKafka::Message*>(raw);
  const std::string& topic = m.topic_name();
  const int32_t partition = m.partition();
  const int64_t offset = m.offset();
  auto it = owned_.find({topic, partition});
  if (it == owned_.end()) return;  // revoked meanwhile: the new owner reads it
  Owned& own = it->second;
  if (own.next >= 0 && offset > own.next) {
    check_gap(topic, partition, own.next, offset, own.score_from);
  }
  own.next = offset + 1;
  own.unsaved++;
  pending_marks_.push_back({{topic, partition}, offset + 1});
  const RdKafka::MessageTimestamp ts = m.timestamp();
  if (ts.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) {
    pending_times_ms_.push_back(ts.timestamp);
  }
  if (pending_messages_++ == 0) pending_since_ = Steady::now();
  {
    std::lock_guard lock(metrics_mu_);
    metrics_.messages_in++;
  }
  const std::string_view key = m.key() != nullptr ? std::string_view(*m.key()) : std::string_view();
  const std::string_view payload(static_cast<const char*>(m.payload()), m.len());
  if (m.len() > kMaxJsonLineBytes) {
    dead_letter(topic, partition, offset, key, payload, "",
                fmt::format("message of {} bytes is larger than the {} accepted", m.len(),
                            kMaxJsonLineBytes));
    return;
  }
  if (topic == config_.topics.labels) {
    auto label = decoder_.decode_label(payload);
    if (!label.ok()) {
      dead_letter(topic, partition, offset, key, payload, label.error().field,
                  label.error().reason);
      return;
    }
    live_.labels.push_back(std::move(*label));
    std::lock_guard lock(metrics_mu_);
    metrics_.labels_in++;
    return;
  }
  Transaction tx;
  Status st = decoder_.decode_into(payload, tx);
  if (!st.ok()) {
    dead_letter(topic, partition, offset, key, payload, st.error().field, st.error().reason);
    return;
  }
  if (key != tx.account_id) {
    // Keyed otherwise, the account's transactions may be spread over partitions and owners,
    // and no owner would see all of them.
    dead_letter(topic, partition, offset, key, payload, "key",
                key.empty() ? "the message has no key; it must be the account id"
                            : "the message key must be the account id '" + tx.account_id + "'");
    return;
  }
  kafka_state::tag(tx, partition);
  if (offset < own.score_from) {
    warm_.txs.push_back(std::move(tx));
  } else {
    live_.txs.push_back(std::move(tx));
  }
}

void KafkaSource::check_gap(const std::string& topic, int32_t partition, int64_t expected,
                            int64_t got, int64_t score_from) {
  // Offsets may be missing for harmless reasons: a transactional producer's commit markers take
  // one offset each, aborted data is filtered, compaction removes superseded keys. Those offsets
  // lie at or above the partition's log start offset. Offsets below it were deleted by retention
  // before this process read them: librdkafka then resets the position to the earliest offset
  // (auto.offset.reset) and would carry on silently.
  int64_t low = -1, high = -1;
  if (consumer_->get_watermark_offsets(topic, partition, &low, &high) != RdKafka::ERR_NO_ERROR ||
      low <= expected) {
    // The cached log start may be stale: ask the broker (rare: only on a gap).
    if (consumer_->query_watermark_offsets(topic, partition, &low, &high, 5000) !=
        RdKafka::ERR_NO_ERROR) {
      low = -1;
    }
  }
  if (low <= expected) {
    spdlog::debug("kafka: {}/{} offsets {}..{} not delivered (markers, aborted or compacted)",
                  topic, partition, expected, got - 1);
    return;
  }
  if (expected < score_from) {
    // Already decided (below the committed offset): only the state they would rebuild is lost.
    spdlog::warn(
        "kafka: {}/{} offsets {}..{}, decided before, were deleted by the broker before this "
        "process re-read them to rebuild state: features of those accounts start incomplete",
        topic, partition, expected, std::min(score_from, got) - 1);
    if (got <= score_from) return;
    expected = score_from;
  }
  const int64_t skipped = got - expected;
  spdlog::error(
      "kafka: {}/{} offsets {}..{} ({} messages) were deleted by the broker (log start is now "
      "{}) before fraudwatch read them: they were NOT scored or stored. This process lagged "
      "further behind than the topic's retention; see docs/scaling.md",
      topic, partition, expected, got - 1, skipped, low);
  std::lock_guard lock(metrics_mu_);
  metrics_.skipped_offsets += static_cast<uint64_t>(skipped);
}

void KafkaSource::submit_pending() {
  if (pending_messages_ == 0) return;
  if (!pending_dead_.empty()) writer_.add_dead_letters(std::move(pending_dead_));
  pending_dead_.clear();
  const uint64_t warmed = warm_.txs.size();
  const uint64_t live = live_.txs.size();
  if (!warm_.txs.empty()) {
    warm_.warm_up = true;
    engine_.submit(std::move(warm_));
  }
  warm_ = SourceBatch{};
  // Always submitted, even empty (only dead letters): its completion carries the offsets.
  const uint64_t seq = engine_.submit(std::move(live_));
  live_ = SourceBatch{};
  if (!pending_times_ms_.empty()) batch_times_[seq] = std::move(pending_times_ms_);
  pending_times_ms_.clear();
  marks_[seq] = std::move(pending_marks_);
  pending_marks_.clear();
  pending_messages_ = 0;
  std::lock_guard lock(metrics_mu_);
  metrics_.warmed_up += warmed;
  metrics_.transactions_in += live;
}

void KafkaSource::advance_commits(bool sync, const std::set<Key>* only) {
  const uint64_t upto = committable_seq();
  std::map<Key, int64_t> offsets;
  if (upto != UINT64_MAX) {
    for (auto it = marks_.begin(); it != marks_.end() && it->first <= upto;) {
      for (const Mark& mk : it->second) {
        auto& o = offsets[mk.key];
        o = std::max(o, mk.next);
      }
      it = marks_.erase(it);
    }
  }
  std::vector<RdKafka::TopicPartition*> list;
  for (auto& [key, next] : offsets) {
    auto own = owned_.find(key);
    if (own == owned_.end() || next <= own->second.committed) continue;
    if (only != nullptr && only->count(key) == 0) {
      // Not committed now: keep it for the next round.
      marks_[0].push_back({key, next});
      continue;
    }
    own->second.committed = next;
    list.push_back(RdKafka::TopicPartition::create(key.first, key.second, next));
  }
  if (!list.empty()) {
    RdKafka::ErrorCode e = sync ? consumer_->commitSync(list) : consumer_->commitAsync(list);
    std::lock_guard lock(metrics_mu_);
    if (e == RdKafka::ERR_NO_ERROR) {
      metrics_.commits++;
    } else {
      metrics_.commit_failures++;
      spdlog::warn(
          "kafka: offset commit failed ({}); the next owner re-reads from the last "
          "commit and the store skips what it already holds",
          RdKafka::err2str(e));
    }
  }
  RdKafka::TopicPartition::destroy(list);
}

void KafkaSource::backpressure() {
  const uint64_t inflight = marks_.size();
  const size_t queued = producer_.stats().queued;
  const bool over = inflight > config_.max_inflight_batches || queued > config_.max_output_queue;
  const bool under =
      inflight <= config_.max_inflight_batches / 2 && queued <= config_.max_output_queue / 2;
  if (over == paused_ && !(paused_ && under)) {
    std::lock_guard lock(metrics_mu_);
    metrics_.inflight_batches = inflight;
    return;
  }
  if (!paused_ && !over) return;
  if (paused_ && !under) return;
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& [key, _] : owned_) {
    parts.push_back(RdKafka::TopicPartition::create(key.first, key.second));
  }
  if (!paused_) {
    consumer_->pause(parts);
    spdlog::info("kafka: pausing {} partitions ({} batches not yet durable, {} outputs queued)",
                 parts.size(), inflight, queued);
  } else {
    consumer_->resume(parts);
    spdlog::info("kafka: resuming {} partitions", parts.size());
  }
  paused_ = !paused_;
  RdKafka::TopicPartition::destroy(parts);
  std::lock_guard lock(metrics_mu_);
  metrics_.paused = paused_;
  if (paused_) metrics_.pauses++;
  metrics_.inflight_batches = inflight;
}

void KafkaSource::save_snapshots(bool evict, const std::set<Key>& which, bool wait) {
  std::vector<std::future<Status>> pending;
  for (const Key& key : which) {
    if (key.first != config_.topics.transactions) continue;
    auto own = owned_.find(key);
    if (own == owned_.end()) continue;
    // Runs after every batch submitted so far: the snapshot covers exactly offsets < next.
    std::string blob = kafka_state::snapshot(engine_, key.second, evict);
    if (own->second.next < 0 || (own->second.unsaved == 0 && own->second.saved)) continue;
    kafka_state::Checkpoint cp{config_.group_id, key.first,       key.second,
                               own->second.next, std::move(blob), SystemClock::instance().now()};
    own->second.unsaved = 0;
    own->second.saved = true;
    auto promise = std::make_shared<std::promise<Status>>();
    pending.push_back(promise->get_future());
    writer_.run_after_flush([this, cp = std::move(cp), promise](Store& store, bool durable) {
      if (!durable) {
        promise->set_value(make_error("checkpoint", "the store is not writable"));
        return;
      }
      Status st = kafka_state::save(store, cp);
      if (st.ok()) {
        checkpoints_saved_.fetch_add(1);
        std::lock_guard lock(metrics_mu_);
        saved_at_[{cp.topic, cp.partition}] = Steady::now();
      } else {
        spdlog::error("kafka: saving the state of {}/{} failed: {}", cp.topic, cp.partition,
                      st.error().message());
      }
      promise->set_value(st);
    });
  }
  if (!wait) return;
  for (auto& f : pending) {
    if (f.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
      spdlog::error("kafka: a partition checkpoint was not saved within 120 s");
    }
  }
}

void KafkaSource::on_assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  {
    std::lock_guard lock(metrics_mu_);
    metrics_.rebalances++;
  }
  paused_ = false;
  // What the group has committed, per partition.
  std::vector<RdKafka::TopicPartition*> committed;
  for (auto* tp : partitions) {
    committed.push_back(RdKafka::TopicPartition::create(tp->topic(), tp->partition()));
  }
  RdKafka::ErrorCode ce = consumer_->committed(committed, 30000);
  if (ce != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: cannot read committed offsets ({}); re-reading from checkpoints",
                 RdKafka::err2str(ce));
  }
  std::string names;
  for (size_t i = 0; i < partitions.size(); ++i) {
    RdKafka::TopicPartition* tp = partitions[i];
    const Key key{tp->topic(), tp->partition()};
    const int64_t c = ce == RdKafka::ERR_NO_ERROR ? committed[i]->offset() : -1;
    Owned own;
    own.committed = c >= 0 ? c : -1;
    int64_t start = c >= 0 ? c : RdKafka::Topic::OFFSET_BEGINNING;
    if (key.first == config_.topics.transactions) {
      own.score_from = std::max<int64_t>(c, 0);
      auto cp = kafka_state::load(store_, config_.group_id, key.first, key.second);
      if (!cp.ok()) {
        spdlog::error(
            "kafka: cannot load the checkpoint of {}/{}: {}; rebuilding state from the "
            "start of the partition",
            key.first, key.second, cp.error().message());
      }
      if (cp.ok() && cp->has_value()) {
        Status st = kafka_state::restore(engine_, (*cp)->state);
        if (st.ok()) {
          start = (*cp)->offset;
          own.score_from = std::max(own.score_from, start);
          own.saved = true;
          std::lock_guard lock(metrics_mu_);
          saved_at_[key] =
              Steady::now() -
              std::chrono::seconds(std::max<int64_t>(
                  0, (SystemClock::instance().now() - (*cp)->saved_at) / kMicrosPerSecond));
        } else {
          spdlog::error(
              "kafka: the state checkpoint of {}/{} is unusable ({}); starting it with "
              "empty state, rebuilt from the start of the partition",
              key.first, key.second, st.error().message());
        }
      }
      if (!own.saved && kafka_state::kAvailable) {
        start = RdKafka::Topic::OFFSET_BEGINNING;  // no state: rebuild it from the beginning
      }
    }
    tp->set_offset(start);
    own.next = start >= 0 ? start : -1;
    owned_[key] = own;
    names += fmt::format("{}{}/{}@{}", names.empty() ? "" : ", ", key.first, key.second,
                         start >= 0 ? std::to_string(start) : "beginning");
  }
  RdKafka::TopicPartition::destroy(committed);
  {
    std::lock_guard lock(metrics_mu_);
    metrics_.assigned_partitions = owned_.size();
  }
  spdlog::info("kafka: assigned {}", names.empty() ? "nothing" : names);
}

void KafkaSource::on_revoke(std::vector<RdKafka::TopicPartition*>& partitions) {
  {
    std::lock_guard lock(metrics_mu_);
    metrics_.rebalances++;
  }
  submit_pending();
  std::set<Key> keys;
  for (auto* tp : partitions) keys.insert({tp->topic(), tp->partition()});
  // Snapshot + evict, then wait until the checkpoints (and every decision before them) are
  // durable and the outputs delivered, and commit: the next owner starts where we stopped.
  save_snapshots(true, keys, true);
  std::promise<void> flushed;
  auto done = flushed.get_future();
  writer_.run_after_flush([&flushed](Store&, bool) { flushed.set_value(); });
  if (done.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
    spdlog::error("kafka: the store did not catch up within 120 s while giving up partitions");
  }
  if (!producer_.flush(30000)) spdlog::warn("kafka: outputs still queued while revoking");
  record_latencies();
  advance_commits(true, &keys);
  for (const Key& k : keys) owned_.erase(k);
  if (owned_.empty()) marks_.clear();
  {
    std::lock_guard lock(metrics_mu_);
    metrics_.assigned_partitions = owned_.size();
  }
  spdlog::info("kafka: revoked {} partitions", keys.size());
}

void KafkaSource::sample_metrics() {
  const auto now = Steady::now();
  const double dt = std::chrono::duration<double>(now - last_sample_).count();
  KafkaProducerStats ps = producer_.stats();
  std::vector<KafkaPartitionMetrics> parts;
  for (const auto& [key, own] : owned_) {
    KafkaPartitionMetrics p;
    p.topic = key.first;
    p.partition = key.second;
    p.position = own.next;
    p.committed = own.committed;
    int64_t low = 0, high = -1;
    if (consumer_->get_watermark_offsets(key.first, key.second, &low, &high) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      p.high_watermark = high;
      p.lag = std::max<int64_t>(0, high - std::max<int64_t>(own.next, low));
    }
    parts.push_back(std::move(p));
  }
  std::lock_guard lock(metrics_mu_);
  for (auto& p : parts) {
    auto it = saved_at_.find({p.topic, p.partition});
    if (it != saved_at_.end())
      p.checkpoint_age_s = std::chrono::duration<double>(now - it->second).count();
  }
  metrics_.partitions = std::move(parts);
  metrics_.producer = ps;
  metrics_.checkpoints_saved = checkpoints_saved_.load();
  if (dt > 0) {
    metrics_.in_per_s = static_cast<double>(metrics_.messages_in - last_in_) / dt;
    metrics_.out_per_s = static_cast<double>(ps.delivered - last_out_) / dt;
  }
  last_in_ = metrics_.messages_in;
  last_out_ = ps.delivered;
  last_sample_ = now;
}

void KafkaSource::record_latencies() {
  if (batch_times_.empty()) return;
  const uint64_t upto = committable_seq();
  if (upto == UINT64_MAX) return;
  const int64_t now_ms = SystemClock::instance().now() / 1000;
  LatencyHistogram h;
  for (auto it = batch_times_.begin(); it != batch_times_.end() && it->first <= upto;) {
    for (const int64_t produced_ms : it->second) {
      h.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ms - produced_ms)) * 1'000'000);
    }
    it = batch_times_.erase(it);
  }
  if (h.total() == 0) return;
  std::lock_guard lock(metrics_mu_);
  metrics_.produce_to_decision.merge(h);
}

void KafkaSource::maintain(bool force_commit) {
  const auto now = Steady::now();
  record_latencies();
  if (force_commit || now - last_commit_ >= std::chrono::milliseconds(200)) {
    advance_commits(false, nullptr);
    last_commit_ = now;
  }
  backpressure();
  if (now - last_snapshot_ >= std::chrono::duration<double>(config_.checkpoint_interval_s)) {
    submit_pending();
    std::set<Key> keys;
    for (const auto& [key, _] : owned_) keys.insert(key);
    save_snapshots(false, keys, false);
    last_snapshot_ = now;
  }
  if (now - last_sample_ >= std::chrono::seconds(1)) sample_metrics();
}

void KafkaSource::run(const std::function<bool()>& should_stop) {
  const auto max_wait = std::chrono::milliseconds(config_.batch_max_ms);
  while (!should_stop()) {
    int timeout = 100;
    if (pending_messages_ > 0) {
      auto left = max_wait - (Steady::now() - pending_since_);
      timeout = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(left).count(), 0, 100));
    }
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(timeout));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      handle(*consumer_, m.get());
    } else if (m->err() == RdKafka::ERR__AUTO_OFFSET_RESET) {
      // The position fell outside the partition's retained offsets; check_gap() counts what
      // was lost once the first message after the reset arrives.
      spdlog::error("kafka: {}/{}: {}", m->topic_name(), m->partition(), m->errstr());
    } else if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) {
      spdlog::warn("kafka: consume: {}", m->errstr());
    }
    if (pending_messages_ >= config_.batch_size ||
        (pending_messages_ > 0 && Steady::now() - pending_since_ >= max_wait)) {
      submit_pending();
    }
    maintain(false);
  }
  submit_pending();
}

void KafkaSource::close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  submit_pending();
  consumer_->close();  // revokes through the callback: checkpoints and commits
  consumer_.reset();
}

uint64_t KafkaSource::messages_in() const {
  std::lock_guard lock(metrics_mu_);
  return metrics_.messages_in;
}

KafkaSourceMetrics KafkaSource::metrics() const {
  std::lock_guard lock(metrics_mu_);
  return metrics_;
}

std::string kafka_prometheus(const KafkaSourceMetrics& m) {
  std::string out;
  auto counter = [&](const char* name, const char* help, double v, const char* type) {
    out += fmt::format(
        "# HELP fraudwatch_kafka_{0} {1}\n# TYPE fraudwatch_kafka_{0} {2}\n"
        "fraudwatch_kafka_{0} {3}\n",
        name, help, type, v);
  };
  counter("messages_in_total", "Messages consumed from the input topics.",
          static_cast<double>(m.messages_in), "counter");
  counter("transactions_scored_total", "Transactions submitted for scoring.",
          static_cast<double>(m.transactions_in), "counter");
  counter("warm_up_total", "Transactions re-read to rebuild state (not decided again).",
          static_cast<double>(m.warmed_up), "counter");
  counter("labels_in_total", "Label events consumed.", static_cast<double>(m.labels_in), "counter");
  counter("dead_letters_total", "Undecodable input messages sent to the dead-letter topic.",
          static_cast<double>(m.dead_letters), "counter");
  counter("messages_out_total", "Output messages acknowledged by the broker.",
          static_cast<double>(m.producer.delivered), "counter");
  counter("output_queue", "Output messages waiting for the broker.",
          static_cast<double>(m.producer.queued), "gauge");
  counter("messages_in_per_second", "Consumed messages per second (last second).", m.in_per_s,
          "gauge");
  counter("messages_out_per_second", "Output messages acknowledged per second (last second).",
          m.out_per_s, "gauge");
  counter("rebalances_total", "Partition assignments and revocations.",
          static_cast<double>(m.rebalances), "counter");
  counter("commits_total", "Offset commits.", static_cast<double>(m.commits), "counter");
  counter("commit_failures_total", "Offset commits that failed.",
          static_cast<double>(m.commit_failures), "counter");
  counter("checkpoints_saved_total", "Partition state checkpoints saved to the store.",
          static_cast<double>(m.checkpoints_saved), "counter");
  counter("paused", "1 while input partitions are paused for backpressure.", m.paused ? 1 : 0,
          "gauge");
  counter("pauses_total", "Times input was paused for backpressure.", static_cast<double>(m.pauses),
          "counter");
  counter("produce_to_decision_p50_seconds",
          "Producer timestamp to decision durable and outputs delivered, median.",
          static_cast<double>(m.produce_to_decision.percentile(0.5)) / 1e9, "gauge");
  counter("produce_to_decision_p99_seconds",
          "Producer timestamp to decision durable and outputs delivered, 99th percentile.",
          static_cast<double>(m.produce_to_decision.percentile(0.99)) / 1e9, "gauge");
  counter("inflight_batches", "Engine batches not yet durable and delivered.",
          static_cast<double>(m.inflight_batches), "gauge");
  counter("assigned_partitions", "Input partitions assigned to this process.",
          static_cast<double>(m.assigned_partitions), "gauge");
  counter("skipped_offsets_total",
          "Input offsets deleted by the broker's retention before they were read (NOT scored).",
          static_cast<double>(m.skipped_offsets), "counter");
  out +=
      "# HELP fraudwatch_kafka_consumer_lag Messages behind the partition's end.\n"
      "# TYPE fraudwatch_kafka_consumer_lag gauge\n";
  for (const auto& p : m.partitions) {
    if (p.lag < 0) continue;
    out += fmt::format("fraudwatch_kafka_consumer_lag{{topic=\"{}\",partition=\"{}\"}} {}\n",
                       p.topic, p.partition, p.lag);
  }
  out +=
      "# HELP fraudwatch_kafka_checkpoint_age_seconds Since the partition's state was saved.\n"
      "# TYPE fraudwatch_kafka_checkpoint_age_seconds gauge\n";
  for (const auto& p : m.partitions) {
    if (p.checkpoint_age_s < 0) continue;
    out += fmt::format(
        "fraudwatch_kafka_checkpoint_age_seconds{{topic=\"{}\",partition=\"{}\"}} {:.1f}\n",
        p.topic, p.partition, p.checkpoint_age_s);
  }
  return out;
}

}  // namespace fw
