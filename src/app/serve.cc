// `fraudwatch serve`: Kafka -> engine -> store + output topics, one member of a consumer group
// (docs/scaling.md). With --embedded-kafka it first starts librdkafka's in-memory mock cluster.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "app/commands.h"
#include "app/lists_api.h"
#include "app/model_serving.h"
#include "app/registry_models.h"
#include "app/rules_api.h"
#include "app/setup.h"
#include "app/shutdown.h"
#include "engine/engine.h"
#include "kafka/embedded_kafka.h"
#include "kafka/kafka_output_sink.h"
#include "kafka/kafka_producer.h"
#include "kafka/kafka_source.h"
#include "server/http_server.h"
#include "sinks/store_writer.h"

namespace fw {

int run_serve(const ServeOptions& options) {
  using Steady = std::chrono::steady_clock;
  AppConfig cfg = options.config;
  std::unique_ptr<EmbeddedKafka> embedded;
  if (options.embedded_kafka) {
    if (options.embedded_partitions < 1 || options.embedded_partitions > 64) {
      spdlog::error("--partitions: must be 1..64");
      return 2;
    }
    auto k = EmbeddedKafka::start(1);
    if (!k.ok()) {
      spdlog::error("{}", k.error().message());
      return 1;
    }
    embedded = std::move(*k);
    const KafkaTopics& t = cfg.kafka.topics;
    for (const std::string& topic : {t.transactions, t.labels, t.decisions, t.alerts}) {
      if (Status st = embedded->create_topic(topic, options.embedded_partitions); !st.ok()) {
        spdlog::error("{}", st.error().message());
        return 1;
      }
    }
    if (Status st = embedded->create_topic(t.dead_letters, 1); !st.ok()) {
      spdlog::error("{}", st.error().message());
      return 1;
    }
    cfg.kafka.brokers = embedded->bootstraps();
    // A real broker answers a waiting fetch as soon as data arrives; the mock cluster answers an
    // empty fetch only after the full fetch.wait.max.ms (librdkafka's default 500 ms), which
    // would dominate produce->decision latency. The user's own setting wins.
    cfg.kafka.properties.try_emplace("fetch.wait.max.ms", "10");
    fmt::print(
        stderr,
        "\n  embedded Kafka (in memory, NOT durable; gone when fraudwatch stops): "
        "bootstrap servers {}\n  topics: {}, {} ({} partitions each); outputs {}, {}, {}\n\n",
        cfg.kafka.brokers, t.transactions, t.labels, options.embedded_partitions, t.decisions,
        t.alerts, t.dead_letters);
    std::fflush(stderr);
  }
  if (cfg.kafka.brokers.empty()) {
    spdlog::error(
        "kafka.brokers: not set; give the bootstrap servers in the config's kafka: "
        "section, or try --embedded-kafka");
    return 2;
  }
  cfg.kafka.batch_size = cfg.batch_size;
  std::error_code ec;
  if (cfg.backend == "sqlite") std::filesystem::create_directories(cfg.data_dir, ec);
  auto store = open_store(cfg, false);
  if (!store.ok()) {
    spdlog::error("{}", store.error().message());
    return 1;
  }
  std::shared_ptr<const RuleSet> rules = load_rules(cfg, **store);
  if (!rules) return 2;
  auto models = load_model_bundle(cfg.model_path, cfg.shadow_model_path, cfg);
  if (!models.ok()) {
    spdlog::error("{}", models.error().message());
    return 2;
  }
  auto producer = KafkaProducer::create(cfg.kafka);
  if (!producer.ok()) {
    spdlog::error("{}", producer.error().message());
    return 2;
  }
  std::atomic<KafkaSource*> source_ptr{nullptr};
  StoreWriterOptions writer_options;
  writer_options.max_delay = std::chrono::milliseconds(cfg.kafka.store_max_delay_ms);
  StoreWriter writer(**store, writer_options);
  writer.set_on_durable([&source_ptr](uint64_t seq) {
    if (KafkaSource* s = source_ptr.load()) s->on_durable(seq);
  });
  KafkaOutputSink sink(cfg.kafka.topics, **producer, writer);
  EngineConfig ec2;
  ec2.shards = cfg.effective_shards();
  ec2.queue_batches = cfg.queue_batches;
  Engine engine(ec2, rules, sink);
  engine.set_models(*models);
  // Without --model/--shadow-model: the registry's champion and shadow, followed while running.
  auto followed = follow_registry(**store, cfg, engine);
  if (!followed.ok()) {
    spdlog::error("{}", followed.error().message());
    return 2;
  }
  std::unique_ptr<RegistryModels> registry = std::move(followed).value();
  if (registry) log_registry_poll(true, engine);
  KafkaSource source(cfg.kafka, engine, writer, **store, **producer);
  source_ptr.store(&source);

  HttpServer server({.bind_address = cfg.bind, .port = static_cast<uint16_t>(cfg.port)});
  // Hot reload as in the demo: the file is polled about once a second from the consumer loop,
  // and reloaded on SIGHUP or POST /api/rules/reload; a rejected file leaves the running set.
  std::unique_ptr<RuleReloader> reloader;
  if (!cfg.rules_path.empty()) {
    reloader = std::make_unique<RuleReloader>(
        cfg.rules_path, rules,
        [&engine](std::shared_ptr<const RuleSet> r) { engine.set_rules(std::move(r)); },
        store_list_provider(**store));
  }
  add_rules_routes(server, engine, reloader.get(), [&source, &writer, &engine] {
    return kafka_prometheus(source.metrics()) + store_writer_prometheus(writer.stats()) +
           fmt::format(
               "# HELP fraudwatch_engine_labels_applied_total Label events folded into the "
               "engine's feature state.\n# TYPE fraudwatch_engine_labels_applied_total counter\n"
               "fraudwatch_engine_labels_applied_total {}\n",
               engine.metrics().labels);
  });
  add_model_routes(server, engine, cfg);
  add_registry_routes(server, engine, registry.get());
  add_list_routes(server, **store);
  add_ready_route(server, writer);
  if (Status st = server.start(); !st.ok()) {
    spdlog::error("{}", st.error().message());
    return 1;
  }
  writer.start();
  engine.start();
  if (Status st = source.start(); !st.ok()) {
    spdlog::error("{}", st.error().message());
    engine.stop();
    writer.stop();
    server.stop();
    return 2;
  }
  install_shutdown_handlers();
  fmt::print(
      stderr,
      "fraudwatch serve: group {} on {}, {} shards, store {}, metrics http://{}:{}/metrics\n",
      cfg.kafka.group_id, cfg.kafka.brokers, engine.shard_count(), describe_store(cfg), cfg.bind,
      server.port());
  std::fflush(stderr);
  const auto started = Steady::now();
  // Throughput while busy: from the first consumed message to the last.
  std::optional<Steady::time_point> first_in, last_in;
  uint64_t seen = 0;
  auto next_reload_poll = Steady::now();
  source.run([&] {
    const uint64_t n = source.messages_in();
    if (n != seen) {
      if (!first_in) first_in = Steady::now();
      last_in = Steady::now();
      seen = n;
    }
    if (shutdown_requested()) return true;
    if ((reloader || registry) && Steady::now() >= next_reload_poll) {
      if (reloader) {
        log_reload(reloader->poll(), "file or store list changed");
        if (take_reload_request()) log_reload(reloader->reload(), "SIGHUP");
      }
      if (registry) log_registry_poll(registry->poll(), engine);
      next_reload_poll = Steady::now() + std::chrono::seconds(1);
    }
    return options.duration_s > 0 &&
           std::chrono::duration<double>(Steady::now() - started).count() >= options.duration_s;
  });
  spdlog::info("stopping: checkpointing owned partitions, draining the engine and the store");
  writer.give_up_at(Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                        std::chrono::duration<double>(options.shutdown_timeout_s)));
  source.close();
  engine.stop();
  writer.stop();
  server.stop();
  const KafkaSourceMetrics m = source.metrics();
  const StoreWriterStats ws = writer.stats();
  const double busy_s =
      first_in && last_in ? std::chrono::duration<double>(*last_in - *first_in).count() : 0;
  const double in_rate = busy_s > 0 ? static_cast<double>(m.messages_in) / busy_s : 0;
  fmt::print(stderr,
             "consumed {} messages: {} transactions scored, {} warm-up, {} labels, {} dead "
             "letters; stored {}; produce->decision (durable and delivered) p50 {:.1f} ms, p99 "
             "{:.1f} ms over {} messages; {:.0f} messages/s while running\n",
             m.messages_in, m.transactions_in, m.warmed_up, m.labels_in, m.dead_letters, ws.stored,
             static_cast<double>(m.produce_to_decision.percentile(0.5)) / 1e6,
             static_cast<double>(m.produce_to_decision.percentile(0.99)) / 1e6,
             m.produce_to_decision.total(), in_rate);
  return ws.abandoned > 0 ? 1 : 0;
}

}  // namespace fw
