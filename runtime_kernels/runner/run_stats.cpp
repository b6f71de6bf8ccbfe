#include "run_stats.h"

#include <sys/resource.h>

#include <cstdio>

namespace edgecpm {
namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string call_times_json(const CallTimes& times) {
  std::string json = "{";
  for (const auto& [rows, entry] : times.by_rows) {
    json += (json.size() > 1 ? ",\"" : "\"") + std::to_string(rows) + "\":[" + std::to_string(entry.calls) + "," +
            fixed(entry.seconds * 1e3, 3) + "]";
  }
  return json + "}";
}

}  // namespace

std::string stats_json(const RunStats& stats, double rss_mb) {
  const size_t decode_steps = stats.tokens.empty() ? 0 : stats.tokens.size() - 1;
  const double prefill_tok_s = stats.prefill_s > 0 ? stats.prompt_tokens / stats.prefill_s : 0;
  const double decode_tok_s = stats.decode_s > 0 ? decode_steps / stats.decode_s : 0;
  std::string json = "{\"prompt_tokens\":" + std::to_string(stats.prompt_tokens) +
                     ",\"generated_tokens\":" + std::to_string(stats.tokens.size()) + ",\"tokens\":[";
  for (size_t i = 0; i < stats.tokens.size(); ++i) {
    json += (i ? "," : "") + std::to_string(stats.tokens[i]);
  }
  json += "],\"stopped_on_eos\":" + std::string(stats.stopped_on_eos ? "true" : "false") +
          ",\"verify_ms\":" + fixed(stats.verify_s * 1e3, 1) + ",\"load_ms\":" + fixed(stats.load_s * 1e3, 1) + ",\"ttft_ms\":" + fixed(stats.prefill_s * 1e3, 2) +
          ",\"prefill_tok_s\":" + fixed(prefill_tok_s, 2) + ",\"decode_tok_s\":" + fixed(decode_tok_s, 2) +
          ",\"peak_rss_mb\":" + fixed(rss_mb, 1) + ",\"threads\":" + std::to_string(stats.threads);
  if (stats.spec.used) {
    const auto& spec = stats.spec;
    const double mean = spec.verify_steps ? static_cast<double>(spec.accepted_tokens) / spec.verify_steps : 0;
    json += ",\"verify_steps\":" + std::to_string(spec.verify_steps) + ",\"mean_accepted\":" + fixed(mean, 3) +
            ",\"draft_s\":" + fixed(spec.draft_s, 4) + ",\"verify_s\":" + fixed(spec.verify_s, 4) +
            ",\"verify_calls\":" + call_times_json(spec.verify_calls) +
            ",\"verify_in_place_calls\":" + call_times_json(spec.verify_in_place_calls) +
            ",\"draft_calls\":" + call_times_json(spec.draft_calls);
  }
  if (stats.replay.used) {
    const auto& replay = stats.replay;
    const size_t steps = replay.plain_tokens ? replay.plain_tokens - 1 : 0;
    json += ",\"replay_accept\":" + fixed(replay.accept, 6) + ",\"plain_ttft_ms\":" +
            fixed(replay.plain_prefill_s * 1e3, 2) + ",\"plain_decode_tok_s\":" +
            fixed(replay.plain_decode_s > 0 ? steps / replay.plain_decode_s : 0, 2) + ",\"plain_forward_ms\":" +
            fixed(steps ? replay.plain_decode_s * 1e3 / steps : 0, 3) + ",\"replay_tokens_equal\":" +
            (replay.tokens_equal ? "true" : "false") + ",\"replay_first_difference\":" +
            std::to_string(replay.first_difference);
  }
  json += "}";
  return json;
}

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

}  // namespace edgecpm
