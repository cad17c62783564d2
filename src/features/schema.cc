#include "features/schema.h"

namespace fw {
namespace {

constexpr std::array<std::string_view, kFeatureCount> kNames = {
#define FW_FEATURE_NAME(id, name) name,
    FW_FEATURE_LIST(FW_FEATURE_NAME)
#undef FW_FEATURE_NAME
};

constexpr uint64_t compute_schema_hash() {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::string_view name : kNames) {
    for (char c : name) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    h ^= static_cast<unsigned char>('\n');
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr uint64_t kSchemaHash = compute_schema_hash();

}  // namespace

std::string_view feature_name(FeatureId f) { return kNames[static_cast<size_t>(f)]; }

std::optional<FeatureId> find_feature(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<FeatureId>(i);
  }
  return std::nullopt;
}

uint64_t feature_schema_hash() { return kSchemaHash; }

}  // namespace fw
