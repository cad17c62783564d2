// The minimal live page: one self-contained HTML document (inline CSS and JS, no external
// resources) that polls GET /api/stats and GET /api/alerts?limit=20 every second and shows
// throughput, the decision mix, latency, a 60 s sparkline and the latest alerts. The app serves
// it at GET / and implements the two API routes (schemas in docs/http-api.md). Thread-safe:
// returns a view of a static constant.
#pragma once

#include <string_view>

namespace fw {

std::string_view live_page_html();

}  // namespace fw
