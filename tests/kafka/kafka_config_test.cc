// The kafka: section of the config meets hostile input: every mistake is a clear error naming
// the field, and secrets never appear in errors.
#include "kafka/kafka_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "app/config.h"
#include "testing/paths.h"

namespace fw {
namespace {

using fw::testing::TempDir;

Result<AppConfig> load_text(const TempDir& dir, const std::string& yaml) {
  const std::string path = dir.file("c.yaml");
  std::ofstream(path) << yaml;
  return load_config(path);
}

TEST(KafkaConfig, ReadsEveryKeyAndPassesPropertiesThrough) {
  TempDir dir;
  auto c = load_text(dir,
                     "kafka:\n  brokers: b1:9092,b2:9092\n  group_id: g\n"
                     "  topics: {transactions: tx, labels: lb, decisions: dc, alerts: al,"
                     " dead_letters: dl}\n  checkpoint_interval_s: 5\n"
                     "  properties:\n    security.protocol: SASL_SSL\n"
                     "    sasl:\n      mechanisms: SCRAM-SHA-512\n"
                     "    compression.type: lz4\n");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->kafka.brokers, "b1:9092,b2:9092");
  EXPECT_EQ(c->kafka.group_id, "g");
  EXPECT_EQ(c->kafka.topics.transactions, "tx");
  EXPECT_EQ(c->kafka.topics.dead_letters, "dl");
  EXPECT_EQ(c->kafka.checkpoint_interval_s, 5);
  EXPECT_EQ(c->kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(c->kafka.properties.at("sasl.mechanisms"), "SCRAM-SHA-512");  // nested form
  EXPECT_EQ(c->kafka.properties.at("compression.type"), "lz4");
  EXPECT_EQ(describe_properties(c->kafka), "compression.type, sasl.mechanisms, security.protocol");
}

TEST(KafkaConfig, UnknownPropertyNamesTheField) {
  TempDir dir;
  auto c = load_text(dir, "kafka:\n  properties:\n    sesion.timeout.ms: 5000\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "kafka.properties.sesion.timeout.ms");
  EXPECT_NE(c.error().message().find("No such configuration property"), std::string::npos)
      << c.error().message();
}

TEST(KafkaConfig, BadPropertyValueNamesTheField) {
  TempDir dir;
  auto c = load_text(dir, "kafka:\n  properties:\n    compression.type: zip\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "kafka.properties.compression.type");
}

TEST(KafkaConfig, WrongTypesAndRangesNameTheField) {
  TempDir dir;
  auto a = load_text(dir, "kafka:\n  checkpoint_interval_s: soon\n");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().field, "kafka.checkpoint_interval_s");
  auto b = load_text(dir, "kafka:\n  checkpoint_interval_s: 0\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().field, "kafka.checkpoint_interval_s");
  auto d = load_text(dir, "kafka:\n  topics:\n    decisions: \"no spaces!\"\n");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().field, "kafka.topics.decisions");
  auto e = load_text(dir, "kafka:\n  properties:\n    ssl.ca.location: [a, b]\n");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "kafka.properties.ssl.ca.location");
  auto f = load_text(dir, "kafka:\n  brokrs: x\n");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().field, "kafka.brokrs");
  auto g = load_text(dir, "kafka:\n  properties:\n    group.id: other\n");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().field, "kafka.properties.group.id");
  auto h = load_text(dir, "kafka:\n  topics: {transactions: same, labels: same}\n");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().field, "kafka.topics.labels");
  auto i = load_text(dir, "kafka:\n  store_max_delay_ms: 0\n");
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.error().field, "kafka.store_max_delay_ms");
  auto j = load_text(dir, "kafka:\n  store_max_delay_ms: fast\n");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().field, "kafka.store_max_delay_ms");
  auto k = load_text(dir, "kafka:\n  store_max_delay_ms: 25\n");
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->kafka.store_max_delay_ms, 25);
}

TEST(KafkaConfig, SecretsComeFromEnvironmentOrFileAndAreNeverInErrors) {
  TempDir dir;
  ::setenv("FW_KAFKA_TEST_SECRET", "s3cr3t-from-env", 1);
  std::ofstream(dir.file("pw")) << "s3cr3t-from-file\n";
  auto env =
      resolve_property_value("kafka.properties.sasl.password", "${env:FW_KAFKA_TEST_SECRET}");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, "s3cr3t-from-env");
  auto file =
      resolve_property_value("kafka.properties.sasl.password", "${file:" + dir.file("pw") + "}");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, "s3cr3t-from-file");  // trailing newline dropped
  EXPECT_EQ(*resolve_property_value("f", "plain"), "plain");

  ::unsetenv("FW_KAFKA_TEST_UNSET");
  auto c = load_text(dir, "kafka:\n  properties:\n    sasl.password: ${env:FW_KAFKA_TEST_UNSET}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "kafka.properties.sasl.password");
  EXPECT_NE(c.error().message().find("FW_KAFKA_TEST_UNSET is not set"), std::string::npos);
  auto m = load_text(dir, "kafka:\n  properties:\n    sasl.password: ${file:/nonexistent/pw}\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("cannot read the file"), std::string::npos);
  auto u = resolve_property_value("kafka.properties.sasl.password", "${vault:x}");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message().find("unknown reference"), std::string::npos);

  // A literal secret that librdkafka refuses (sasl.password is fine; an ssl key password for a
  // property of the wrong kind) is reported without its value.
  KafkaConfig k;
  k.properties["ssl.key.password"] = "${env:FW_KAFKA_TEST_SECRET}";
  k.properties["sasl.kerberos.keytab.bogus"] = "s3cr3t-literal";
  Status st = validate(k);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "kafka.properties.sasl.kerberos.keytab.bogus");
  EXPECT_EQ(st.error().message().find("s3cr3t"), std::string::npos) << st.error().message();
}

}  // namespace
}  // namespace fw
