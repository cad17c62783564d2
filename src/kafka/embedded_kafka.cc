#include "kafka/embedded_kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>

namespace fw {

Result<std::unique_ptr<EmbeddedKafka>> EmbeddedKafka::start(int brokers) {
  if (brokers < 1 || brokers > 16) return make_error("brokers", "must be 1..16");
  std::array<char, 512> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster; it never connects anywhere itself.
  rd_kafka_conf_set(conf, "log_level", "3", err.data(), err.size());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error("embedded-kafka", std::string("cannot create a client: ") + err.data());
  }
  std::unique_ptr<EmbeddedKafka> k(new EmbeddedKafka());
  k->handle_ = rk;
  k->cluster_ = rd_kafka_mock_cluster_new(rk, brokers);
  if (k->cluster_ == nullptr) return make_error("embedded-kafka", "cannot start the mock cluster");
  return k;
}

EmbeddedKafka::~EmbeddedKafka() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

std::string EmbeddedKafka::bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

Status EmbeddedKafka::create_topic(const std::string& topic, int partitions) {
  if (partitions < 1 || partitions > 1000) return make_error("partitions", "must be 1..1000");
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error("topic " + topic, std::string("cannot create: ") + rd_kafka_err2str(e));
  }
  return Status::Ok();
}

}  // namespace fw
