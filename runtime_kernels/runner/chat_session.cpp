#include "chat_session.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "json_line.h"
#include "run_stats.h"
#include "runner_error.h"
#include "sampler.h"
#include "serve_request.h"
#include "stdin_lines.h"
#include "utf8_stream.h"

namespace edgecpm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void write_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // the app shows each token as it arrives
}

void write_error(const std::string& message) {
  write_line("{\"event\":\"error\",\"message\":" + json_string(message) + "}");
}

// Thrown from the speculative path's token callback when a stop line arrived.
struct StopTurn {};

class ChatSession {
 public:
  ChatSession(const ServeModel& model, StdinLines& input) : m_(model), input_(input) {}

  void reset() {
    cached_.clear();
    pending_ = -1;
  }

  // One turn: refused with an error line (and nothing changed) when it cannot run; else token
  // lines and a done line.
  void run_turn(const ServeRequest& request) {
    std::vector<int64_t> ids;
    try {
      ids = new_ids(request.prompt);
      max_new_ = turn_budget(ids.size(), request);
    } catch (const RunnerError& e) {
      write_error(e.what());
      return;
    }
    RunStats stats;
    text_ = Utf8Stream();
    generated_ = 0;
    const char* reason = "length";
    if (m_.spec) {
      std::vector<int64_t> conversation = cached_;
      conversation.insert(conversation.end(), ids.begin(), ids.end());
      stats.prompt_tokens = conversation.size();
      try {
        speculative_generate(*m_.spec, *m_.draft_vocab, m_.max_seq_len, conversation, max_new_,
                             m_.eos_ids, m_.spec_settings, [&](int64_t token) {
                               if (!emit(token, stats)) throw StopTurn{};
                             }, stats);
      } catch (const StopTurn&) {
        reason = "stop";
      }
    } else {
      stats.prompt_tokens = ids.size();
      reason = plain_turn(ids, request.sampling, stats);
    }
    if (!stats.tokens.empty() && m_.eos_ids.count(stats.tokens.back())) {
      reason = "eos";
      stats.stopped_on_eos = true;
    }
    cached_.insert(cached_.end(), ids.begin(), ids.end());
    cached_.insert(cached_.end(), stats.tokens.begin(), stats.tokens.end() - 1);
    pending_ = stats.tokens.back();
    for (auto& line : deferred_) input_.push_front(std::move(line));  // (reversed twice: in order)
    deferred_.clear();
    const int64_t position = static_cast<int64_t>(cached_.size()) + 1;
    write_line(std::string("{\"event\":\"done\",\"reason\":\"") + reason + "\",\"position\":" +
               std::to_string(position) + ",\"max_seq_len\":" + std::to_string(m_.max_seq_len) + "," +
               stats_json(stats, peak_rss_mb()).substr(1));
  }

 private:
  // This turn's ids as they enter the cache after what it holds: BOS first in a new
  // conversation, else the previous answer's last token (generated, never fed).
  std::vector<int64_t> new_ids(const std::string& user_text) const {
    std::vector<int64_t> ids;
    std::string text = m_.chat ? chat_prompt(user_text) : user_text;
    if (pending_ < 0) {
      ids.push_back(m_.bos_id);
    } else {
      ids.push_back(pending_);
      if (m_.chat) {
        // ChatML: an answer ends "<|im_end|>\n"; one cut short is closed here.
        text = (m_.vocab->bytes_of(pending_) == "<|im_end|>" ? "\n" : "<|im_end|>\n") + text;
      }
    }
    const auto encoded = m_.tokenizer->encode(text, "the prompt");
    ids.insert(ids.end(), encoded.begin(), encoded.end());
    return ids;
  }

  // The turn's max_new_tokens, cut to what the cache has left (a chat's answer ends when the
  // context is full rather than being refused); throws when not even one token fits.
  int turn_budget(size_t new_tokens, const ServeRequest& request) const {
    const int64_t held = static_cast<int64_t>(cached_.size());
    int64_t room = m_.max_seq_len - held - static_cast<int64_t>(new_tokens);
    if (m_.spec) {
      if (request.sampling.temperature != 0) {
        throw RunnerError("speculative decoding is greedy: send temperature 0, or start the runner without --spec");
      }
      room -= std::max(m_.spec_settings.max_nodes(), m_.spec_settings.max_draft_slots() + 1);  // drafting headroom
    }
    if (room < 1) {
      throw RunnerError("the conversation is full: it holds " + std::to_string(held) + " tokens, this prompt adds " +
                        std::to_string(new_tokens) + (m_.spec ? " (plus the drafting headroom)" : "") +
                        ", and the cache has " + std::to_string(m_.max_seq_len) +
                        ": start a new conversation (reset) or send a shorter message");
    }
    if (request.sampling.top_k > m_.vocab_size) {
      throw RunnerError("top_k " + std::to_string(request.sampling.top_k) + " exceeds the vocabulary (" +
                        std::to_string(m_.vocab_size) + " tokens)");
    }
    return static_cast<int>(std::min<int64_t>(request.max_new_tokens, room));
  }

  // Prefill of the new ids at the cache's end, then one call per token, as plain_generate.
  const char* plain_turn(const std::vector<int64_t>& ids, const SamplingSettings& sampling, RunStats& stats) {
    Sampler sampler(sampling);
    int64_t position = static_cast<int64_t>(cached_.size());
    auto start = Clock::now();
    int64_t token = m_.forward->next_token(ids, position, sampler);
    stats.prefill_s = seconds_since(start);
    position += static_cast<int64_t>(ids.size());
    start = Clock::now();
    std::vector<int64_t> step(1);
    const char* reason = "length";
    while (true) {
      if (!emit(token, stats)) {
        reason = "stop";
        break;
      }
      if (m_.eos_ids.count(token) || static_cast<int>(stats.tokens.size()) >= max_new_) {
        break;
      }
      step[0] = token;
      token = m_.forward->next_token(step, position++, sampler);
    }
    stats.decode_s = seconds_since(start);
    return reason;
  }

  // Writes the token's line; false when a stop line arrived (the token is the answer's last).
  bool emit(int64_t token, RunStats& stats) {
    if (!m_.spec) stats.tokens.push_back(token);  // speculative_generate records its own
    ++generated_;
    const bool last = m_.eos_ids.count(token) || generated_ >= max_new_;
    const bool stop = !last && stop_requested();
    std::string text = m_.eos_ids.count(token) ? "" : text_.push(m_.vocab->bytes_of(token));
    if (last || stop) text += text_.flush();
    write_line("{\"event\":\"token\",\"id\":" + std::to_string(token) + ",\"text\":" + json_string(text) + "}");
    return !stop;
  }

  // Reads the lines that arrived while the answer streamed: a stop line ends it; others wait
  // for the end of the turn.
  bool stop_requested() {
    std::string line;
    bool stop = false;
    while (input_.poll(line)) {
      bool is_stop = false;
      try {
        is_stop = parse_serve_request(line).kind == ServeRequest::Kind::Stop;
      } catch (const RunnerError&) {
        // Answered (refused) in order after the turn.
      }
      if (is_stop) {
        stop = true;
      } else {
        deferred_.insert(deferred_.begin(), std::move(line));
      }
    }
    return stop;
  }

  const ServeModel& m_;
  StdinLines& input_;
  std::vector<int64_t> cached_;  // ids whose K/V are in the cache, at positions 0..size-1
  int64_t pending_ = -1;         // the last answer's final token: generated, fed by the next turn
  Utf8Stream text_;
  int generated_ = 0;
  int max_new_ = 0;  // this turn's max_new_tokens, cut to the cache
  std::vector<std::string> deferred_;  // newest first
};

}  // namespace

int serve(const ServeModel& model, const std::string& ready_fields) {
  write_line("{\"event\":\"ready\",\"pid\":" + std::to_string(::getpid()) + ",\"max_seq_len\":" +
             std::to_string(model.max_seq_len) + ",\"vocab_size\":" + std::to_string(model.vocab_size) +
             ",\"chat\":" + (model.chat ? "true" : "false") + ",\"spec\":" + (model.spec ? "true" : "false") + "," +
             ready_fields + "}");
  StdinLines input;
  ChatSession session(model, input);
  std::string line;
  while (input.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    }
    ServeRequest request;
    try {
      request = parse_serve_request(line);
    } catch (const RunnerError& e) {
      write_error(e.what());
      continue;
    }
    if (request.kind == ServeRequest::Kind::Reset) {
      session.reset();
    } else if (request.kind == ServeRequest::Kind::Prompt) {
      session.run_turn(request);
    }
    // A stop line between turns has nothing to stop.
  }
  return 0;
}

}  // namespace edgecpm
