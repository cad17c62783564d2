// The command line against PostgreSQL: `fraudwatch db migrate|maintain`, the storage settings
// in the config file, and errors people can act on (unreachable server, bad settings), never
// showing a password. Uses fresh databases on the server scripts/with-postgres.sh started.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "storage/postgres_store.h"
#include "testing/paths.h"
#include "testing/postgres.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;

std::string bin() { return fw::testing::fraudwatch_binary().string(); }

TEST(PostgresCli, DbMigrateThenUpToDateThenMaintain) {
  if (!fw::testing::test_postgres_url()) {
    GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
  }
  const std::string url = fw::testing::create_test_database();
  ASSERT_FALSE(url.empty());
  const std::string latest = std::to_string(postgres_latest_schema_version());
  ASSERT_GE(postgres_latest_schema_version(), 2);
  {
    ChildProcess p({bin(), "db", "migrate", "--database-url", url});
    EXPECT_EQ(p.wait(), 0) << p.transcript();
    EXPECT_NE(p.transcript().find("migrated schema from version 0 to " + latest), std::string::npos)
        << p.transcript();
  }
  {
    ChildProcess p({bin(), "db", "migrate", "--database-url", url});
    EXPECT_EQ(p.wait(), 0) << p.transcript();
    EXPECT_NE(p.transcript().find("up to date (version " + latest + ")"), std::string::npos)
        << p.transcript();
  }
  {
    ChildProcess p({bin(), "db", "maintain", "--database-url", url, "--retention-days", "30",
                    "--days-ahead", "1"});
    EXPECT_EQ(p.wait(), 0) << p.transcript();
    EXPECT_NE(p.transcript().find("created 2 partition(s)"), std::string::npos) << p.transcript();
  }
}

TEST(PostgresCli, UnreachableServerIsReportedWithTheFixAndWithoutThePassword) {
  for (const char* cmd : {"demo", "migrate"}) {
    SCOPED_TRACE(cmd);
    const std::string url = "postgresql://fw:hunter2-secret@127.0.0.1:1/fraud";
    std::vector<std::string> args = {bin()};
    if (std::string(cmd) == "migrate") {
      args.insert(args.end(), {"db", "migrate", "--database-url", url});
    } else {
      args.insert(args.end(), {"demo", "--database-url", url, "--port", "0", "--count", "10"});
    }
    ChildProcess p(args);
    EXPECT_EQ(p.wait(), 1) << p.transcript();
    EXPECT_NE(p.transcript().find("127.0.0.1:1"), std::string::npos) << p.transcript();
    EXPECT_NE(p.transcript().find("running and reachable"), std::string::npos) << p.transcript();
    EXPECT_EQ(p.transcript().find("hunter2-secret"), std::string::npos) << p.transcript();
  }
}

TEST(PostgresCli, BadStorageSettingsNameTheKey) {
  fw::testing::TempDir dir;
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& c : {Case{"storage:\n  backend: mysql\n", "storage.backend"},
                        Case{"storage:\n  read_connections: 0\n", "storage.read_connections"},
                        Case{"storage:\n  retention_days: -1\n", "storage.retention_days"},
                        Case{"storage:\n  migrate: perhaps\n", "storage.migrate"}}) {
    SCOPED_TRACE(c.yaml);
    const std::string cfg = dir.file("c.yaml");
    FILE* f = std::fopen(cfg.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(c.yaml, f);
    std::fclose(f);
    ChildProcess p({bin(), "demo", "--config", cfg, "--port", "0", "--count", "10"});
    EXPECT_EQ(p.wait(), 2) << p.transcript();
    EXPECT_NE(p.transcript().find(c.key), std::string::npos) << p.transcript();
  }
  // --fresh deletes the SQLite demo database; it must never touch a PostgreSQL one.
  ChildProcess p({bin(), "demo", "--database-url", "postgresql://127.0.0.1:1/x", "--fresh",
                  "--port", "0", "--count", "10"});
  EXPECT_NE(p.wait(), 0);
  EXPECT_NE(p.transcript().find("--fresh"), std::string::npos) << p.transcript();
}

}  // namespace
}  // namespace fw
