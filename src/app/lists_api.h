// The named-list endpoints of the HTTP server (the lists rules read with `store: true`,
// docs/rules.md), over the application's Store:
//   GET    /api/lists              every list: [{"name", "values": count}]
//   GET    /api/lists?name=NAME    {"name", "values": [...]}; 404 for an unknown list
//   POST   /api/lists?name=NAME    body {"values": ["v", ...]}: adds; {"name", "added": n}
//   DELETE /api/lists?name=NAME    same body: removes; {"name", "removed": n}
// Bad input (not JSON, wrong types, bad names or values) answers 400 naming the field; a body
// over the server's max_body_bytes answers 413 (use `fraudwatch lists import` for big lists).
// A running demo picks a change up within its next reload poll (about a second).
// Handlers run on server threads; Store is thread-safe. The caller keeps the store alive until
// the server stops.
#pragma once

#include "server/http_server.h"
#include "storage/store.h"

namespace fw {

void add_list_routes(HttpServer& server, Store& store);

}  // namespace fw
