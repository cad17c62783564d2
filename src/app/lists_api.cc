#include "app/lists_api.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/named_list.h"

namespace fw {
namespace {

// The `name` query parameter, checked as a list name.
Result<std::string> list_name(const HttpRequest& req) {
  auto it = req.query.find("name");
  if (it == req.query.end()) return make_error("name", "is required: ?name=LIST");
  if (Status st = check_list_name(it->second); !st.ok()) return st.error();
  return it->second;
}

// The body's "values": a JSON array of strings, checked as list values.
Result<std::vector<std::string>> body_values(const HttpRequest& req) {
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return make_error("body", "is not valid JSON");
  if (!body.is_object()) return make_error("body", "must be an object {\"values\": [...]}");
  if (!body.contains("values")) return make_error("values", "is required: a list of strings");
  const auto& v = body["values"];
  if (!v.is_array()) return make_error("values", "must be a list of strings");
  if (v.size() > kMaxListValuesPerCall) {
    return make_error("values", "has " + std::to_string(v.size()) + " values; the limit is " +
                                    std::to_string(kMaxListValuesPerCall));
  }
  std::vector<std::string> values;
  values.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return make_error("values[" + std::to_string(i) + "]", "must be a string");
    }
    values.push_back(v[i].get<std::string>());
  }
  if (Status st = check_list_values(values); !st.ok()) return st.error();
  return values;
}

HttpResponse store_error(const Error& e) { return HttpResponse::error(500, e.message()); }

}  // namespace

void add_list_routes(HttpServer& server, Store& store) {
  server.route("GET", "/api/lists", [&store](const HttpRequest& req) {
    if (req.query.count("name") == 0) {
      auto all = store.lists();
      if (!all.ok()) return store_error(all.error());
      nlohmann::json out = nlohmann::json::array();
      for (const auto& [name, count] : *all) out.push_back({{"name", name}, {"values", count}});
      return HttpResponse::json(200, out.dump());
    }
    auto name = list_name(req);
    if (!name.ok()) return HttpResponse::error(400, name.error().message());
    auto values = store.list_values(*name);
    // The store says why (an unknown list names it); an unknown list is the usual reason.
    if (!values.ok()) return HttpResponse::error(404, values.error().message());
    return HttpResponse::json(200, nlohmann::json{{"name", *name}, {"values", *values}}.dump());
  });
  server.route("POST", "/api/lists", [&store](const HttpRequest& req) {
    auto name = list_name(req);
    if (!name.ok()) return HttpResponse::error(400, name.error().message());
    auto values = body_values(req);
    if (!values.ok()) return HttpResponse::error(400, values.error().message());
    auto added = store.add_list_values(*name, *values);
    if (!added.ok()) return store_error(added.error());
    return HttpResponse::json(200, nlohmann::json{{"name", *name}, {"added", *added}}.dump());
  });
  server.route("DELETE", "/api/lists", [&store](const HttpRequest& req) {
    auto name = list_name(req);
    if (!name.ok()) return HttpResponse::error(400, name.error().message());
    auto values = body_values(req);
    if (!values.ok()) return HttpResponse::error(400, values.error().message());
    auto removed = store.remove_list_values(*name, *values);
    if (!removed.ok()) return store_error(removed.error());
    return HttpResponse::json(200, nlohmann::json{{"name", *name}, {"removed", *removed}}.dump());
  });
}

}  // namespace fw
