#include "kafka/kafka_producer.h"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

namespace fw {
namespace {

// The batch sequence number travels as the message's opaque value (an integer, not a pointer).
void* seq_opaque(uint64_t seq) { return reinterpret_cast<void*>(static_cast<uintptr_t>(seq)); }
uint64_t opaque_seq(void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

class ReportCb final : public RdKafka::DeliveryReportCb {
 public:
  explicit ReportCb(KafkaProducer& owner) : owner_(owner) {}
  void dr_cb(RdKafka::Message& message) override {
    const uint64_t seq = opaque_seq(message.msg_opaque());
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      owner_.on_delivery(seq, true);
      return;
    }
    spdlog::warn("output to {} failed ({}); producing it again", message.topic_name(),
                 message.errstr());
    KafkaProducer::Headers headers;
    if (RdKafka::Headers* h = message.headers()) {
      for (const RdKafka::Headers::Header& hd : h->get_all()) {
        headers.emplace_back(hd.key(),
                             std::string(static_cast<const char*>(hd.value()), hd.value_size()));
      }
    }
    const std::string key = message.key() != nullptr ? *message.key() : std::string();
    owner_.produce(message.topic_name(), key,
                   std::string_view(static_cast<const char*>(message.payload()), message.len()),
                   headers, seq);
    owner_.on_delivery(seq, false);
  }

 private:
  KafkaProducer& owner_;
};

}  // namespace

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::create(const KafkaConfig& config) {
  auto conf = make_conf(config, KafkaRole::kProducer);
  if (!conf.ok()) return conf.error();
  std::unique_ptr<KafkaProducer> p(new KafkaProducer());
  p->report_cb_ = std::make_unique<ReportCb>(*p);
  std::string err;
  if ((*conf)->set("dr_cb", p->report_cb_.get(), err) != RdKafka::Conf::CONF_OK) {
    return make_error("kafka", "cannot install the delivery callback: " + err);
  }
  p->producer_.reset(RdKafka::Producer::create(conf->get(), err));
  if (!p->producer_) return make_error("kafka", "cannot create the producer: " + err);
  KafkaProducer* raw = p.get();
  p->poller_ = std::thread([raw] {
    while (!raw->stop_.load()) raw->producer_->poll(100);
  });
  return p;
}

KafkaProducer::~KafkaProducer() {
  if (producer_) {
    if (!flush(10000)) {
      spdlog::error("{} output messages were not delivered before stopping", producer_->outq_len());
    }
  }
  stop_.store(true);
  if (poller_.joinable()) poller_.join();
}

void KafkaProducer::track(uint64_t seq, int delta) {
  if (seq == kUntracked) return;
  std::lock_guard lock(mu_);
  auto it = pending_.try_emplace(seq, 0).first;
  it->second += delta;
  if (it->second <= 0) pending_.erase(it);
}

void KafkaProducer::produce(const std::string& topic, std::string_view key, std::string_view value,
                            const Headers& headers, uint64_t seq, int32_t partition) {
  track(seq, +1);
  for (int attempt = 0;; ++attempt) {
    RdKafka::Headers* h = nullptr;
    if (!headers.empty()) {
      h = RdKafka::Headers::create();
      for (const auto& [k, v] : headers) h->add(k, v.data(), v.size());
    }
    RdKafka::ErrorCode e =
        producer_->produce(topic, partition >= 0 ? partition : RdKafka::Topic::PARTITION_UA,
                           RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                           value.size(), key.data(), key.size(), 0, h, seq_opaque(seq));
    if (e == RdKafka::ERR_NO_ERROR) {
      produced_.fetch_add(1, std::memory_order_relaxed);
      return;  // librdkafka owns the headers now
    }
    delete h;  // not taken on failure
    if (e == RdKafka::ERR__QUEUE_FULL) {
      // The broker falls behind: wait for deliveries instead of growing without bound.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, 1 + attempt)));
      continue;
    }
    spdlog::error("cannot produce to {}: {}; retrying", topic, RdKafka::err2str(e));
    retried_.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stop_.load()) {
      track(seq, -1);
      return;
    }
  }
}

void KafkaProducer::on_delivery(uint64_t seq, bool ok) {
  if (ok) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
  } else {
    retried_.fetch_add(1, std::memory_order_relaxed);
  }
  track(seq, -1);
}

uint64_t KafkaProducer::lowest_pending_seq() const {
  std::lock_guard lock(mu_);
  return pending_.empty() ? UINT64_MAX : pending_.begin()->first;
}

bool KafkaProducer::flush(int timeout_ms) {
  return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR && producer_->outq_len() == 0;
}

KafkaProducerStats KafkaProducer::stats() const {
  KafkaProducerStats s;
  s.produced = produced_.load();
  s.delivered = delivered_.load();
  s.retried = retried_.load();
  s.queued = static_cast<size_t>(producer_->outq_len());
  return s;
}

}  // namespace fw
