// `fraudwatch lists add|remove|show|import` on a SQLite store: what the commands change is read
// back through the store itself; hostile names, values and files are refused with the field
// and a non-zero exit, and change nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "storage/sqlite_store.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

struct CliRun {
  int status = -1;
  std::string stderr_text;
};

CliRun lists(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {fw::testing::fraudwatch_binary().string(), "lists"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--data-dir");
  argv.push_back(dir.path().string());
  ChildProcess p(argv);
  CliRun r;
  while (p.read_line()) {
  }
  r.status = p.wait();
  r.stderr_text = p.transcript();
  return r;
}

std::vector<std::string> values_of(const TempDir& dir, const std::string& name) {
  auto store = open_sqlite_store(SqliteOptions{.path = dir.file("fraudwatch.db")});
  EXPECT_TRUE(store.ok()) << store.error().message();
  if (!store.ok()) return {};
  auto v = (*store)->list_values(name);
  return v.ok() ? *v : std::vector<std::string>{};
}

TEST(ListsCli, AddImportRemoveShowAndRefuseHostileInput) {
  TempDir dir;
  EXPECT_EQ(lists(dir, {"add", "bad_merchants", "m-2", "m-1"}).status, 0);
  const std::string file = dir.file("devices.txt");
  std::ofstream(file) << "# blocked devices\n\ndev-9\r\ndev-3\n";
  EXPECT_EQ(lists(dir, {"import", "bad_devices", file}).status, 0);
  EXPECT_EQ(values_of(dir, "bad_devices"), (std::vector<std::string>{"dev-3", "dev-9"}));
  EXPECT_EQ(lists(dir, {"remove", "bad_merchants", "m-2"}).status, 0);
  EXPECT_EQ(values_of(dir, "bad_merchants"), (std::vector<std::string>{"m-1"}));
  EXPECT_EQ(lists(dir, {"show"}).status, 0);
  EXPECT_EQ(lists(dir, {"show", "bad_merchants"}).status, 0);

  CliRun unknown = lists(dir, {"show", "nope"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.stderr_text.find("list 'nope': does not exist"), std::string::npos)
      << unknown.stderr_text;
  CliRun bad_name = lists(dir, {"add", "bad name", "x"});
  EXPECT_EQ(bad_name.status, 1);
  EXPECT_NE(bad_name.stderr_text.find("list name: may contain only"), std::string::npos)
      << bad_name.stderr_text;
  CliRun big = lists(dir, {"add", "bad_merchants", "ok", std::string(300, 'x')});
  EXPECT_EQ(big.status, 1);
  EXPECT_NE(big.stderr_text.find("values[1]: is 300 bytes; the limit is 256"), std::string::npos)
      << big.stderr_text;
  CliRun missing = lists(dir, {"import", "bad_devices", dir.file("missing.txt")});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.stderr_text.find("missing.txt"), std::string::npos) << missing.stderr_text;
  CliRun usage = lists(dir, {"add", "only_a_name"});
  EXPECT_NE(usage.status, 0);
  // Nothing the refused calls carried was stored.
  EXPECT_EQ(values_of(dir, "bad_merchants"), (std::vector<std::string>{"m-1"}));
}

}  // namespace
}  // namespace fw
