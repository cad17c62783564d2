#include "kafka/kafka_output_sink.h"

#include <fmt/format.h>

#include "model/json_codec.h"

namespace fw {

std::string decision_json(const Scored& s) {
  std::string out = "{\"transaction_id\":";
  append_json_string(out, s.tx.id);
  out += ",\"account_id\":";
  append_json_string(out, s.tx.account_id);
  out += ",\"action\":";
  append_json_string(out, to_string(s.decision.action));
  out += fmt::format(",\"score\":{:.6f},\"decided_at\":", s.decision.score);
  append_json_string(out, format_rfc3339(s.decision.decided_at));
  out += ",\"rule_set_version\":";
  append_json_string(out, s.decision.rule_set_version);
  out += ",\"reasons\":[";
  bool first = true;
  for (const Reason& r : s.decision.reasons) {
    out += first ? "{\"rule\":" : ",{\"rule\":";
    first = false;
    append_json_string(out, r.rule_id);
    out += ",\"detail\":";
    append_json_string(out, r.detail);
    out += fmt::format(",\"score\":{:.6f}}}", r.score);
  }
  out += "]}";
  return out;
}

std::string alert_json(const Alert& a) {
  std::string out = "{\"transaction_id\":";
  append_json_string(out, a.transaction_id);
  out += ",\"account_id\":";
  append_json_string(out, a.account_id);
  out += ",\"action\":";
  append_json_string(out, to_string(a.action));
  out += fmt::format(",\"score\":{:.6f},\"created_at\":", a.score);
  append_json_string(out, format_rfc3339(a.created_at));
  out += ",\"summary\":";
  append_json_string(out, a.summary);
  out += "}";
  return out;
}

void KafkaOutputSink::consume(ScoredBatch&& batch) {
  for (const Scored& s : batch.scored) {
    producer_.produce(topics_.decisions, s.tx.account_id, decision_json(s), {}, batch.seq);
    if (s.decision.action != Action::kAllow) {
      producer_.produce(topics_.alerts, s.tx.account_id, alert_json(make_alert(s.tx, s.decision)),
                        {}, batch.seq);
    }
  }
  next_.consume(std::move(batch));
}

}  // namespace fw
