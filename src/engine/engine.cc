#include "engine/engine.h"

#include <latch>
#include <limits>
#include <string>

#include "core/hash.h"
#include "core/time.h"
#include "features/partition_snapshot.h"

namespace fw {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// Fills the score slots of `features` and the decision's model fields: the anomaly score
// first (a model or a rule may read it), then the champion and the shadow.
void score_models(const ModelBundle& m, FeatureVector& features, Decision& d) {
  const double anomaly = m.forest ? m.forest->score(features) : kNan;
  features[ScoreSlot::kAnomalyScore] = anomaly;
  const double model = m.champion ? m.champion->predict(features) : kNan;
  features[ScoreSlot::kModelScore] = model;
  d.anomaly_score = anomaly;
  d.model_score = model;
  if (m.champion) d.model_version = m.version;
  if (m.shadow) {
    if (m.shadow->uses_anomaly_score() && m.shadow_forest && m.shadow_forest != m.forest) {
      // The shadow reads its own forest's score; the decision keeps the champion's.
      features[ScoreSlot::kAnomalyScore] = m.shadow_forest->score(features);
      d.shadow_score = m.shadow->predict(features);
      features[ScoreSlot::kAnomalyScore] = anomaly;
    } else {
      d.shadow_score = m.shadow->predict(features);
    }
  }
}

// The champion's top contributions, for a REVIEW or BLOCK decision.
void explain_decision(const ModelBundle& m, const FeatureVector& features, Decision& d) {
  const Explanation e = m.champion->explain(features, m.contributions);
  d.contributions.clear();
  d.contributions.reserve(e.top.size());
  for (const Contribution& c : e.top) {
    d.contributions.push_back({std::string(column_name(c.feature)), c.value});
  }
}

}  // namespace

Alert make_alert(const Transaction& tx, const Decision& decision) {
  Alert alert;
  alert.transaction_id = tx.id;
  alert.account_id = tx.account_id;
  alert.created_at = decision.decided_at;
  alert.action = decision.action;
  alert.score = decision.score;
  for (const Reason& r : decision.reasons) {
    if (!alert.summary.empty()) alert.summary += "; ";
    alert.summary += r.detail.empty() ? r.rule_id : r.detail;
  }
  return alert;
}

Engine::Engine(const EngineConfig& config, std::shared_ptr<const RuleSet> rules, DecisionSink& sink)
    : config_(config), sink_(sink), rules_(std::move(rules)) {
  FeatureConfig fc = config_.features;
  fc.shard_count = config_.shards;
  shards_.reserve(static_cast<size_t>(config_.shards));
  for (int i = 0; i < config_.shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(i, fc, config_.queue_batches));
  }
}

Engine::~Engine() { stop(); }

void Engine::start() {
  if (started_) return;
  started_ = true;
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->thread = std::thread([this, s] { run_shard(*s); });
  }
}

uint64_t Engine::submit(SourceBatch&& batch) {
  const int n = shard_count();
  const uint64_t seq = next_seq_.load(std::memory_order_relaxed);
  const int64_t now_ns = monotonic_nanos();
  std::vector<ShardWork> work(static_cast<size_t>(n));
  // One rule set for every piece of this batch, taken once: a set_rules() during the batch
  // applies from the next batch on, so no batch is scored by two rule sets.
  std::shared_ptr<const RuleSet> rules = rules_.load(std::memory_order_acquire);
  std::shared_ptr<const ModelBundle> models = models_.load(std::memory_order_acquire);
  for (auto& w : work) {
    w.seq = seq;
    w.rules = rules;
    w.models = models;
    w.pieces = static_cast<uint32_t>(n);
    w.source_offset_end = batch.source_offset_end;
    w.submit_ns = now_ns;
    w.warm_up = batch.warm_up;
    w.txs.reserve(batch.txs.size() / static_cast<size_t>(n) + 16);
    w.positions.reserve(batch.txs.size() / static_cast<size_t>(n) + 16);
  }
  for (size_t i = 0; i < batch.txs.size(); ++i) {
    Transaction& tx = batch.txs[i];
    if (tx.account_key == 0) tx.finalize_keys();
    ShardWork& w = work[static_cast<size_t>(shard_of(tx.account_key, n))];
    w.txs.push_back(std::move(tx));
    w.positions.push_back(static_cast<uint32_t>(i));
  }
  for (LabelEvent& label : batch.labels) {
    uint64_t key = hash_id(label.account_id);
    work[static_cast<size_t>(shard_of(key, n))].labels.push_back(std::move(label));
  }
  for (int i = 0; i < n; ++i)
    shards_[static_cast<size_t>(i)]->queue.push(work[static_cast<size_t>(i)]);
  next_seq_.store(seq + 1, std::memory_order_release);
  return seq;
}

void Engine::drain() {
  // Each shard processes its queue in order; once every shard has finished as many batches as
  // were submitted, everything is done.
  const uint64_t submitted = next_seq_.load(std::memory_order_relaxed);
  for (auto& shard : shards_) {
    for (uint64_t done = shard->batches_done.load(std::memory_order_acquire); done < submitted;
         done = shard->batches_done.load(std::memory_order_acquire)) {
      shard->batches_done.wait(done, std::memory_order_acquire);
    }
  }
}

void Engine::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (started_) drain();
  for (auto& shard : shards_) shard->queue.close();
  for (auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
}

void Engine::set_rules(std::shared_ptr<const RuleSet> rules) {
  rules_.store(std::move(rules), std::memory_order_release);
}

std::shared_ptr<const RuleSet> Engine::rules() const {
  return rules_.load(std::memory_order_acquire);
}

Status check_model_bundle(const ModelBundle& bundle) {
  if (bundle.forest && bundle.forest->columns() != kFeatureCount) {
    return Error{"isolation_forest", "trained on " + std::to_string(bundle.forest->columns()) +
                                         " columns; the feature schema has " +
                                         std::to_string(kFeatureCount)};
  }
  if (bundle.shadow_forest && bundle.shadow_forest->columns() != kFeatureCount) {
    return Error{"shadow.isolation_forest",
                 "trained on " + std::to_string(bundle.shadow_forest->columns()) +
                     " columns; the feature schema has " + std::to_string(kFeatureCount)};
  }
  if (bundle.champion && bundle.champion->uses_anomaly_score() && !bundle.forest) {
    return Error{"champion.feature_names", std::string("reads the ") + std::string(kAnomalyColumn) +
                                               " column but the bundle has no Isolation Forest"};
  }
  if (bundle.shadow && bundle.shadow->uses_anomaly_score() && !bundle.shadow_forest) {
    return Error{"shadow.feature_names", std::string("reads the ") + std::string(kAnomalyColumn) +
                                             " column but the bundle has no shadow forest"};
  }
  return Status::Ok();
}

void Engine::set_models(std::shared_ptr<const ModelBundle> models) {
  models_.store(std::move(models), std::memory_order_release);
}

std::shared_ptr<const ModelBundle> Engine::models() const {
  return models_.load(std::memory_order_acquire);
}

void Engine::run_shard(Shard& shard) {
  LatencyHistogram latency;
  while (auto work = shard.queue.pop()) {
    if (work->partition_op) {  // a control item: not a batch, so no sink and no batches_done
      run_partition_op(shard, *work->partition_op);
      continue;
    }
    std::shared_ptr<const RuleSet> rules = std::move(work->rules);
    ScoredBatch out;
    latency.clear();
    score(shard, *work, *rules, out, latency);
    shard.latency.merge_from(latency);
    shard.accounts.store(shard.features.account_count(), std::memory_order_relaxed);
    sink_.consume(std::move(out));
    shard.batches_done.fetch_add(1, std::memory_order_release);
    shard.batches_done.notify_all();
  }
}

void Engine::score(Shard& shard, ShardWork& work, const RuleSet& rules, ScoredBatch& out,
                   LatencyHistogram& latency) {
  // Labels first: they arrived before the transactions of this batch.
  for (const LabelEvent& label : work.labels) shard.features.apply_label(label);

  const size_t n = work.txs.size();
  out.seq = work.seq;
  out.pieces = work.pieces;
  out.source_offset_end = work.source_offset_end;
  out.positions = std::move(work.positions);
  out.labels = std::move(work.labels);
  if (work.warm_up) {
    FeatureVector features;
    for (size_t i = 0; i < n; ++i) {
      if (i + 8 < n) shard.features.prefetch(work.txs[i + 8]);
      shard.features.process(work.txs[i], features);
    }
    out.positions.clear();
    shard.warmed_up.fetch_add(n, std::memory_order_relaxed);
    shard.labels.fetch_add(out.labels.size(), std::memory_order_relaxed);
    out.labels.clear();  // already stored when they were first seen
    return;
  }
  out.scored.resize(n);

  constexpr size_t kPrefetchAhead = 8;
  for (size_t i = 0; i < n && i < kPrefetchAhead; ++i) shard.features.prefetch(work.txs[i]);
  uint64_t by_action[3] = {0, 0, 0};
  FeatureVector features;
  const Timestamp decided_at = config_.clock->now();
  const ModelBundle* const models = work.models.get();
  for (size_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) shard.features.prefetch(work.txs[i + kPrefetchAhead]);
    Scored& s = out.scored[i];
    s.tx = std::move(work.txs[i]);
    shard.features.process(s.tx, features);
    if (models == nullptr) {
      features[ScoreSlot::kModelScore] = features[ScoreSlot::kAnomalyScore] = kNan;
      rules.evaluate(s.tx, features, s.decision, shard.index);
    } else {
      score_models(*models, features, s.decision);
      rules.evaluate(s.tx, features, s.decision, shard.index, &models->policy);
      if (s.decision.action != Action::kAllow && models->champion) {
        explain_decision(*models, features, s.decision);
      }
    }
    s.decision.transaction_id = s.tx.id;
    s.decision.decided_at = decided_at;
    s.decision.latency_ns = monotonic_nanos() - work.submit_ns;
    latency.record(static_cast<uint64_t>(s.decision.latency_ns));
    by_action[static_cast<int>(s.decision.action)]++;
  }

  shard.transactions.fetch_add(n, std::memory_order_relaxed);
  shard.labels.fetch_add(out.labels.size(), std::memory_order_relaxed);
  for (int a = 0; a < 3; ++a) shard.by_action[a].fetch_add(by_action[a], std::memory_order_relaxed);
}

EngineMetrics Engine::metrics() const {
  EngineMetrics m;
  m.batches_submitted = next_seq_.load(std::memory_order_relaxed);
  for (const auto& shard : shards_) {
    m.transactions += shard->transactions.load(std::memory_order_relaxed);
    m.labels += shard->labels.load(std::memory_order_relaxed);
    m.warmed_up += shard->warmed_up.load(std::memory_order_relaxed);
    for (int a = 0; a < 3; ++a)
      m.by_action[a] += shard->by_action[a].load(std::memory_order_relaxed);
    m.latency.merge(shard->latency.snapshot());
    m.accounts += shard->accounts.load(std::memory_order_relaxed);
    m.queued_batches += shard->queue.size();
  }
  return m;
}

// A snapshot or restore of one partition, executed by every shard in queue order. For a
// snapshot each shard fills its own slot of per_shard; for a restore each reads its own.
// The submitting thread waits on `done`, then owns everything again.
struct Engine::PartitionOp {
  explicit PartitionOp(int shards) : per_shard(static_cast<size_t>(shards)), done(shards) {}
  bool restore = false;
  int32_t partition = -1;
  bool evict = false;
  std::vector<std::vector<AccountState>> per_shard;
  std::latch done;
};

void Engine::run_partition_op(Shard& shard, PartitionOp& op) {
  std::vector<AccountState>& mine = op.per_shard[static_cast<size_t>(shard.index)];
  if (op.restore) {
    shard.features.import_partition(op.partition, mine);
    mine = {};
  } else {
    shard.features.export_partition(op.partition, op.evict, mine);
  }
  shard.accounts.store(shard.features.account_count(), std::memory_order_relaxed);
  op.done.count_down();
}

void Engine::run_on_all_shards(const std::shared_ptr<PartitionOp>& op) {
  if (!started_ || stopped_) {
    for (auto& shard : shards_) run_partition_op(*shard, *op);
  } else {
    for (auto& shard : shards_) {
      ShardWork work;
      work.partition_op = op;
      shard->queue.push(work);
    }
  }
  op->done.wait();
}

std::string Engine::snapshot_partition(int32_t partition, bool evict) {
  auto op = std::make_shared<PartitionOp>(shard_count());
  op->partition = partition;
  op->evict = evict;
  run_on_all_shards(op);
  return encode_partition_snapshot(partition, op->per_shard);
}

Status Engine::restore_partition(std::string_view blob) {
  Result<PartitionSnapshot> snap = decode_partition_snapshot(blob);
  if (!snap.ok()) return snap.error();
  const int n = shard_count();
  auto op = std::make_shared<PartitionOp>(n);
  op->restore = true;
  op->partition = snap->partition;
  for (const AccountState& a : snap->accounts) {
    op->per_shard[static_cast<size_t>(shard_of(a.key, n))].push_back(a);
  }
  snap->accounts = {};
  run_on_all_shards(op);
  return Status::Ok();
}

}  // namespace fw
