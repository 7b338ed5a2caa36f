#include "Context.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "Constraint.h"
#include "Model.h"
#include "PromiseWorker.h"
#include "util.h"

namespace mfner {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Jump-forward: what to do with text the constraint forces. Force feeds its tokens without
// sampling (logprob 0); Verify feeds them as a draft with logits on every one and keeps those the
// sampler picks anyway (the same tokens as Off, fewer llama_decode calls when the model agrees).
enum class JumpMode { Off, Force, Verify };

// Everything a generation needs, converted from JS once on the main thread.
struct GenerateRequest {
    std::vector<std::vector<llama_token>> prompts;
    std::vector<ConstraintSource *> constraints;  // per prompt, may be null
    std::vector<uint32_t> seeds;                  // per prompt
    int32_t maxTokens = 256;
    float temperature = 0.0f;  // <= 0: greedy
    int32_t topK = 0;
    float topP = 1.0f;
    bool ignoreEos = false;
    bool logprobs = false;  // log-probability of each sampled token under the constraint
    JumpMode jump = JumpMode::Verify;  // forced text of format constraints (docs/decoding.md)
    int32_t threads = 1;    // for the greedy argmax over many sequences
    int32_t candidates = 16;  // greedy constrained rows: the constraint sees the k best logits first (0: always all)
};

struct SequenceResult {
    std::vector<llama_token> tokens;
    std::vector<float> logprobs;
    std::string finishReason = "length";
};

struct SamplerDeleter {
    void operator()(llama_sampler * s) const { if (s) llama_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

// One sequence's sampling state: its constraint (masks the candidates) and the chooser
// (greedy, or top-k/top-p/temperature/seeded draw). Neither exists on the fast greedy path.
struct SequenceSampler {
    SamplerPtr constraint;
    SamplerPtr choose;
    bool fast() const { return !constraint && !choose; }
};

// Index of the largest logit (first on ties). Eight independent lanes let the compiler use
// vector max instructions; a second pass finds where the maximum sits.
llama_token ArgMax(const float * x, int32_t n) {
    float lanes[8];
    int32_t i = 0;
    for (int k = 0; k < 8; ++k) lanes[k] = -INFINITY;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; ++k) lanes[k] = x[i + k] > lanes[k] ? x[i + k] : lanes[k];
    }
    float m = lanes[0];
    for (int k = 1; k < 8; ++k) m = lanes[k] > m ? lanes[k] : m;
    for (; i < n; ++i) m = x[i] > m ? x[i] : m;
    for (int32_t j = 0; j < n; ++j) {
        if (x[j] == m) return j;
    }
    return 0;  // all NaN: nothing sensible to pick
}

// log(sum(exp(x))) over the candidates, stable.
double LogSumExp(const llama_token_data_array & cur) {
    float m = -INFINITY;
    for (size_t i = 0; i < cur.size; ++i) m = std::max(m, cur.data[i].logit);
    if (!std::isfinite(m)) return m;
    double sum = 0;
    for (size_t i = 0; i < cur.size; ++i) sum += std::exp(static_cast<double>(cur.data[i].logit - m));
    return m + std::log(sum);
}

struct BatchGuard {
    llama_batch batch;
    explicit BatchGuard(int32_t n) : batch(llama_batch_init(n, 0, 1)) {}
    ~BatchGuard() { llama_batch_free(batch); }
    void Clear() { batch.n_tokens = 0; }
    void Add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
        int32_t i = batch.n_tokens++;
        batch.token[i] = token;
        batch.pos[i] = pos;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = seq;
        batch.logits[i] = logits;
    }
};

}  // namespace

class GenerateWorker : public PromiseWorker {
public:
    GenerateWorker(ContextWrap * owner, GenerateRequest request, std::vector<Napi::ObjectReference> keepAlive)
        : PromiseWorker(owner->Env(), owner->Value(), "ERR_GENERATE", "generation failed"), owner_(owner), req_(std::move(request)),
          keepAlive_(std::move(keepAlive)) {}

protected:
    void Settled() override {
        owner_->busy_ = false;
        if (owner_->disposeRequested_) owner_->FreeNow();
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object out = Napi::Object::New(env);
        Napi::Array seqs = Napi::Array::New(env, results_.size());
        for (size_t s = 0; s < results_.size(); ++s) {
            Napi::Object o = Napi::Object::New(env);
            auto tokens = Napi::Int32Array::New(env, results_[s].tokens.size());
            if (!results_[s].tokens.empty()) std::memcpy(tokens.Data(), results_[s].tokens.data(), results_[s].tokens.size() * sizeof(llama_token));
            o.Set("tokens", tokens);
            if (req_.logprobs) {
                auto lps = Napi::Float32Array::New(env, results_[s].logprobs.size());
                if (!results_[s].logprobs.empty()) std::memcpy(lps.Data(), results_[s].logprobs.data(), results_[s].logprobs.size() * sizeof(float));
                o.Set("logprobs", lps);
            }
            o.Set("finishReason", Napi::String::New(env, results_[s].finishReason));
            seqs.Set(static_cast<uint32_t>(s), o);
        }
        out.Set("sequences", seqs);
        Napi::Object timings = Napi::Object::New(env);
        timings.Set("promptTokens", Napi::Number::New(env, promptTokens_));
        timings.Set("promptMs", Napi::Number::New(env, promptMs_));
        timings.Set("generatedTokens", Napi::Number::New(env, generatedTokens_));
        timings.Set("generateMs", Napi::Number::New(env, generateMs_));
        timings.Set("decodeCalls", Napi::Number::New(env, decodeCalls_));
        timings.Set("forcedTokens", Napi::Number::New(env, forcedTokens_));
        timings.Set("fullMasks", Napi::Number::New(env, fullMasks_));
        timings.Set("draftRejected", Napi::Number::New(env, draftRejected_));
        out.Set("timings", timings);
        out.Set("aborted", Napi::Boolean::New(env, aborted_));
        return out;
    }

private:
    bool AbortRequested() const { return owner_->abortRequested_.load(std::memory_order_relaxed); }

    // llama_decode with its return codes turned into coded errors; false when aborted.
    bool Decode(llama_batch & batch) {
        ++decodeCalls_;
        int32_t rc = llama_decode(owner_->ctx_, batch);
        t_quietLogs = false;
        if (rc == 0) return true;
        if (rc == 2 || AbortRequested()) return false;
        if (rc == 1) throw CodedError("ERR_CONTEXT_FULL", "no room in the KV cache for this batch (use a larger contextSize or fewer sequences)");
        throw CodedError("ERR_DECODE", "llama_decode failed with code " + std::to_string(rc));
    }

    SequenceSampler MakeSampler(size_t s, const llama_vocab * vocab) {
        SequenceSampler out;
        if (req_.constraints[s]) out.constraint.reset(req_.constraints[s]->NewSequenceSampler(vocab));
        if (req_.temperature > 0.0f) {
            llama_sampler_chain_params cp = llama_sampler_chain_default_params();
            cp.no_perf = true;
            out.choose.reset(llama_sampler_chain_init(cp));
            if (req_.topK > 0) llama_sampler_chain_add(out.choose.get(), llama_sampler_init_top_k(req_.topK));
            if (req_.topP < 1.0f) llama_sampler_chain_add(out.choose.get(), llama_sampler_init_top_p(req_.topP, 1));
            llama_sampler_chain_add(out.choose.get(), llama_sampler_init_temp(req_.temperature));
            llama_sampler_chain_add(out.choose.get(), llama_sampler_init_dist(req_.seeds[s]));
        }
        return out;
    }

    // Samples one sequence's next token from output row `idx`; writes its log-probability
    // (renormalised over what the constraint allows, before temperature) when asked.
    llama_token Sample(SequenceSampler & ss, int32_t idx, int32_t nVocab, float * logprob) {
        const float * logits = llama_get_logits_ith(owner_->ctx_, idx);
        if (!logits) throw CodedError("ERR_DECODE", "no logits for a sequence");
        if (ss.fast() && !logprob) return ArgMax(logits, nVocab);
        if (ss.constraint && !ss.choose && !logprob && req_.candidates > 0) {
            const llama_token t = BestAllowedAmongTop(ss, logits, nVocab);
            if (t >= 0) {
                llama_sampler_accept(ss.constraint.get(), t);
                return t;
            }
        }
        if (ss.constraint) ++fullMasks_;
        candidates_.resize(static_cast<size_t>(nVocab));
        for (int32_t t = 0; t < nVocab; ++t) candidates_[t] = llama_token_data{t, logits[t], 0.0f};
        llama_token_data_array cur{candidates_.data(), candidates_.size(), -1, false};
        if (ss.constraint) llama_sampler_apply(ss.constraint.get(), &cur);
        llama_token token;
        if (ss.choose) {
            const double lse = logprob ? LogSumExp(cur) : 0.0;
            std::vector<llama_token_data> masked;  // the chooser may reorder or cut the candidates
            if (logprob) masked.assign(cur.data, cur.data + cur.size);
            llama_sampler_apply(ss.choose.get(), &cur);
            if (cur.selected < 0 || static_cast<size_t>(cur.selected) >= cur.size) throw CodedError("ERR_CONSTRAINT", "no token is allowed here");
            token = cur.data[cur.selected].id;
            llama_sampler_accept(ss.choose.get(), token);
            if (logprob) {
                for (const auto & d : masked) if (d.id == token) { *logprob = static_cast<float>(d.logit - lse); break; }
            }
        } else {
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < cur.size; ++i) {
                if (std::isfinite(cur.data[i].logit) && (best == SIZE_MAX || cur.data[i].logit > cur.data[best].logit)) best = i;
            }
            if (best == SIZE_MAX) throw CodedError("ERR_CONSTRAINT", "no token is allowed here");
            token = cur.data[best].id;
            if (logprob) *logprob = static_cast<float>(cur.data[best].logit - LogSumExp(cur));
        }
        if (ss.constraint) llama_sampler_accept(ss.constraint.get(), token);
        return token;
    }

    // Greedy under a constraint is the best allowed logit. Usually that is one of the few best
    // logits, so the constraint first judges only the k best (ordered by logit, then id, as the
    // full scan breaks ties); the first allowed one is the full scan's answer exactly. None
    // allowed: -1, and the caller masks the whole vocabulary. (On a GPU the k best can come from
    // the graph, so most rows never copy their logits to the host: issue 16.)
    llama_token BestAllowedAmongTop(SequenceSampler & ss, const float * logits, int32_t nVocab) {
        const size_t k = static_cast<size_t>(std::min(req_.candidates, nVocab));
        top_.clear();
        for (int32_t t = 0; t < nVocab; ++t) {
            const float x = logits[t];
            if (top_.size() == k && !(x > top_.back().logit)) continue;  // an equal logit of a lower id stays ahead
            if (!(x > -INFINITY && x < INFINITY)) continue;              // as the full scan: finite logits only
            auto at = std::upper_bound(top_.begin(), top_.end(), x, [](float v, const llama_token_data & d) { return v > d.logit; });
            top_.insert(at, llama_token_data{t, x, 0.0f});
            if (top_.size() > k) top_.pop_back();
        }
        llama_token_data_array cur{top_.data(), top_.size(), -1, false};
        llama_sampler_apply(ss.constraint.get(), &cur);
        // Constraints drop candidates (format) or set them to -inf (GBNF grammars), keeping order.
        for (size_t i = 0; i < cur.size; ++i) {
            if (std::isfinite(cur.data[i].logit)) return cur.data[i].id;
        }
        return -1;
    }

    // Samples every listed row. Greedy rows without constraint are independent argmaxes over
    // the whole vocabulary, which dominate a batched step on a GPU: spread them over threads.
    void SampleRows(std::vector<SequenceSampler> & samplers, const std::vector<std::pair<size_t, int32_t>> & rows, int32_t nVocab,
                    const std::function<void(size_t, llama_token, float)> & accept) {
        std::vector<llama_token> picked(rows.size(), 0);
        std::vector<float> lps(rows.size(), 0.0f);
        size_t fastRows = 0;
        for (auto [seq, idx] : rows) fastRows += samplers[seq].fast() && !req_.logprobs;
        const size_t workers = std::min<size_t>(static_cast<size_t>(std::max(req_.threads, 1)), fastRows / 2);
        if (workers > 1 && fastRows == rows.size()) {
            std::vector<std::thread> pool;
            for (size_t w = 0; w < workers; ++w) {
                pool.emplace_back([&, w]() {
                    for (size_t r = w; r < rows.size(); r += workers) picked[r] = ArgMax(llama_get_logits_ith(owner_->ctx_, rows[r].second), nVocab);
                });
            }
            for (auto & t : pool) t.join();
        } else {
            for (size_t r = 0; r < rows.size(); ++r) {
                picked[r] = Sample(samplers[rows[r].first], rows[r].second, nVocab, req_.logprobs ? &lps[r] : nullptr);
            }
        }
        for (size_t r = 0; r < rows.size(); ++r) accept(rows[r].first, picked[r], lps[r]);
    }

    void Run() override {
        llama_context * ctx = owner_->ctx_;
        llama_memory_t mem = llama_get_memory(ctx);
        const llama_vocab * vocab = owner_->model_->Vocab();
        const int32_t nVocab = llama_vocab_n_tokens(vocab);
        const size_t n = req_.prompts.size();
        llama_memory_clear(mem, true);
        results_.assign(n, SequenceResult{});

        std::vector<SequenceSampler> samplers;
        for (size_t s = 0; s < n; ++s) samplers.push_back(MakeSampler(s, vocab));

        const int32_t nBatch = static_cast<int32_t>(llama_n_batch(ctx));
        BatchGuard batch(std::max<int32_t>(nBatch, static_cast<int32_t>(n)));
        std::vector<llama_pos> pos(n, 0);
        std::vector<bool> active(n, true);
        // Per sequence, the tokens for the next llama_decode: the last chosen token, then forced
        // tokens (Force: already in the answer) or a draft (Verify: not yet); fed[s] of them are
        // already in the KV cache (Force, when they did not all fit in one batch).
        std::vector<std::vector<llama_token>> feed(n);
        std::vector<size_t> fed(n, 0);
        std::vector<llama_token> forced;
        // Verify: draft length per sequence, doubled when a whole draft is kept, halved when not,
        // so a model that spells forced text its own way wastes few rows.
        std::vector<size_t> draftCap(n, 8);

        // Appends a chosen token to the answer; false when the sequence is finished.
        auto record = [&](size_t s, llama_token t, float lp) {
            if (!req_.ignoreEos && llama_vocab_is_eog(vocab, t)) {
                results_[s].finishReason = "eog";
                active[s] = false;
                return false;
            }
            results_[s].tokens.push_back(t);
            if (req_.logprobs) results_[s].logprobs.push_back(lp);
            ++generatedTokens_;
            if (static_cast<int32_t>(results_[s].tokens.size()) >= req_.maxTokens) {
                results_[s].finishReason = "length";
                active[s] = false;
                return false;
            }
            return true;
        };
        // What follows the chosen token t: the forced text the constraint knows, if any.
        auto plan = [&](size_t s, llama_token t) {
            feed[s].assign(1, t);
            fed[s] = 0;
            ConstraintSource * src = req_.constraints[s];
            if (req_.jump == JumpMode::Off || !src || !samplers[s].constraint) return;
            for (int round = 0; round < 4 && active[s]; ++round) {
                size_t room = static_cast<size_t>(req_.maxTokens) - results_[s].tokens.size();
                if (req_.jump == JumpMode::Verify) room = std::min(room, draftCap[s]);
                const bool end = src->ForcedTokens(samplers[s].constraint.get(), forced, room);
                if (end && !req_.ignoreEos) {  // only end-of-generation may follow: no need to sample it
                    results_[s].finishReason = "eog";
                    active[s] = false;
                    return;
                }
                if (forced.empty()) return;
                if (req_.jump == JumpMode::Verify) {
                    feed[s].insert(feed[s].end(), forced.begin(), forced.end());
                    return;
                }
                for (llama_token d : forced) {
                    llama_sampler_accept(samplers[s].constraint.get(), d);
                    ++forcedTokens_;
                    feed[s].push_back(d);
                    if (!record(s, d, 0.0f)) return;
                }
            }
        };
        auto accept = [&](size_t s, llama_token t, float lp) {
            if (record(s, t, lp)) plan(s, t);
        };

        // Prefill in chunks of n_batch tokens. Logits from one llama_decode are gone after the
        // next, so a sequence whose prompt ends in this chunk samples its first token right here.
        auto t0 = Clock::now();
        std::vector<std::pair<size_t, int32_t>> endsHere;  // (sequence, index in batch)
        batch.Clear();
        for (size_t s = 0; s < n; ++s) {
            const auto & p = req_.prompts[s];
            for (size_t i = 0; i < p.size(); ++i) {
                bool last = i + 1 == p.size();
                if (last) endsHere.emplace_back(s, batch.batch.n_tokens);
                batch.Add(p[i], pos[s]++, static_cast<llama_seq_id>(s), last);
                ++promptTokens_;
                if (batch.batch.n_tokens == nBatch) {
                    if (!Decode(batch.batch)) return MarkAborted();
                    SampleRows(samplers, endsHere, nVocab, accept);
                    endsHere.clear();
                    batch.Clear();
                }
            }
        }
        if (batch.batch.n_tokens > 0) {
            if (!Decode(batch.batch)) return MarkAborted();
            SampleRows(samplers, endsHere, nVocab, accept);
        }
        promptMs_ = MsSince(t0);

        // Decode: every live sequence's pending tokens (one, or more with jump-forward) per
        // llama_decode, each sequence at least one, the rest while the batch has room.
        auto t1 = Clock::now();
        std::vector<std::pair<size_t, int32_t>> rows;           // sequences with one row to sample
        std::vector<std::pair<size_t, int32_t>> drafts;         // Verify: (sequence, first row)
        std::vector<size_t> take(n, 0);
        std::vector<llama_pos> base(n, 0);
        while (true) {
            if (AbortRequested()) return MarkAborted();
            batch.Clear();
            rows.clear();
            drafts.clear();
            int32_t room = nBatch;
            size_t live = 0;
            for (size_t s = 0; s < n; ++s) {
                take[s] = 0;
                if (!active[s]) continue;
                take[s] = 1;
                --room;
                ++live;
            }
            if (live == 0) break;
            for (size_t s = 0; s < n; ++s) {
                if (!active[s]) continue;
                const size_t more = std::min<size_t>(feed[s].size() - fed[s] - 1, static_cast<size_t>(std::max(room, 0)));
                take[s] += more;
                room -= static_cast<int32_t>(more);
                if (req_.jump == JumpMode::Verify) feed[s].resize(fed[s] + take[s]);  // a draft that does not fit is dropped
            }
            for (size_t s = 0; s < n; ++s) {
                if (!active[s]) continue;
                base[s] = pos[s];
                const bool complete = fed[s] + take[s] == feed[s].size();
                const bool verify = req_.jump == JumpMode::Verify && take[s] > 1;
                if (verify) drafts.emplace_back(s, batch.batch.n_tokens);
                for (size_t i = 0; i < take[s]; ++i) {
                    const bool lastOne = i + 1 == take[s];
                    if (complete && lastOne && !verify) rows.emplace_back(s, batch.batch.n_tokens);
                    batch.Add(feed[s][fed[s] + i], pos[s]++, static_cast<llama_seq_id>(s), verify || (complete && lastOne));
                }
                fed[s] += take[s];
            }
            if (!Decode(batch.batch)) return MarkAborted();
            SampleRows(samplers, rows, nVocab, accept);
            for (auto [s, row0] : drafts) {
                const bool kept = Verify(samplers[s], s, row0, nVocab, feed[s], base[s], pos[s], mem, record, plan);
                draftCap[s] = kept ? std::min<size_t>(draftCap[s] * 2, 512) : std::max<size_t>(draftCap[s] / 2, 2);
            }
        }
        generateMs_ = MsSince(t1);
    }

    // Verify: row0 + i holds the logits after feed[i]. Samples each row as without jump-forward;
    // while the pick equals the next draft token it is kept and the next row is used; at the first
    // difference the pick stands, the rest of the draft leaves the KV cache. True when the whole
    // draft was kept.
    template <class Record, class Plan>
    bool Verify(SequenceSampler & ss, size_t s, int32_t row0, int32_t nVocab, const std::vector<llama_token> & draft, llama_pos base, llama_pos & pos,
                llama_memory_t mem, Record & record, Plan & plan) {
        const size_t k = draft.size();
        for (size_t i = 0; i < k; ++i) {
            float lp = 0.0f;
            const llama_token g = Sample(ss, row0 + static_cast<int32_t>(i), nVocab, req_.logprobs ? &lp : nullptr);
            const bool match = i + 1 < k && g == draft[i + 1];
            if (match) {
                ++forcedTokens_;
                if (!record(s, g, lp)) return true;
                continue;
            }
            const bool kept = i + 1 == k;
            if (!kept) {
                draftRejected_ += static_cast<int64_t>(k - i - 1);
                llama_memory_seq_rm(mem, static_cast<llama_seq_id>(s), base + static_cast<llama_pos>(i + 1), -1);
                pos = base + static_cast<llama_pos>(i + 1);
            }
            if (record(s, g, lp)) plan(s, g);
            return kept;
        }
        return true;
    }

    void MarkAborted() {
        aborted_ = true;
        for (auto & r : results_) if (r.finishReason == "length") r.finishReason = "aborted";
    }

    ContextWrap * owner_;
    GenerateRequest req_;
    std::vector<Napi::ObjectReference> keepAlive_;  // constraint objects in use
    std::vector<SequenceResult> results_;
    std::vector<llama_token_data> candidates_;
    std::vector<llama_token_data> top_;
    bool aborted_ = false;
    double promptMs_ = 0, generateMs_ = 0;
    int64_t promptTokens_ = 0, generatedTokens_ = 0, decodeCalls_ = 0, forcedTokens_ = 0, draftRejected_ = 0;
    int64_t fullMasks_ = 0;  // constrained rows whose constraint judged the whole vocabulary
};

Napi::Object ContextWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass(env, "Context", {
        InstanceMethod<&ContextWrap::Generate>("generate"),
        InstanceMethod<&ContextWrap::Abort>("abort"),
        InstanceMethod<&ContextWrap::SetAdapters>("setAdapters"),
        InstanceMethod<&ContextWrap::Dispose>("dispose"),
        InstanceMethod<&ContextWrap::Info>("info"),
    });
    exports.Set("Context", func);
    return exports;
}

bool ContextWrap::AbortCallback(void * self) {
    const bool abort = static_cast<ContextWrap *>(self)->abortRequested_.load(std::memory_order_relaxed);
    if (abort) t_quietLogs = true;  // llama.cpp reports an aborted graph as an error: not one to us
    return abort;
}

// new Context(model, { contextSize, batchSize, microBatchSize, sequences, threads })
ContextWrap::ContextWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<ContextWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ModelWrap::constructor.Value())) {
        Throw(env, "ERR_INVALID_ARG", "Context needs a Model as its first argument");
    }
    model_ = ModelWrap::Unwrap(info[0].As<Napi::Object>());
    llama_model * model = model_->Require(env);
    Napi::Object opts = OptObject(info, 1);
    auto positive = [&](const char * key, double fallback, double max) {
        double v = OptNumber(opts, key, fallback);
        if (!(v >= 1 && v <= max) || v != std::floor(v)) Throw(env, "ERR_INVALID_ARG", std::string("option ") + key + " must be an integer in 1.." + std::to_string(static_cast<int64_t>(max)));
        return static_cast<uint32_t>(v);
    };
    options_.contextSize = positive("contextSize", 2048, 1 << 20);
    options_.batchSize = positive("batchSize", std::min<uint32_t>(512, options_.contextSize), 1 << 20);
    options_.microBatchSize = positive("microBatchSize", std::min<uint32_t>(512, options_.batchSize), options_.batchSize);
    options_.sequences = positive("sequences", 1, 256);
    options_.threads = static_cast<int32_t>(positive("threads", 2, 1024));

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = options_.contextSize;
    cp.n_batch = options_.batchSize;
    cp.n_ubatch = options_.microBatchSize;
    cp.n_seq_max = options_.sequences;
    cp.n_threads = options_.threads;
    cp.n_threads_batch = options_.threads;
    cp.kv_unified = true;  // one cache shared by all sequences: sum of their lengths <= contextSize
    cp.no_perf = true;
    cp.abort_callback = AbortCallback;
    cp.abort_callback_data = this;
    ctx_ = llama_init_from_model(model, cp);
    if (!ctx_) Throw(env, "ERR_CONTEXT_CREATE", "llama.cpp could not create the context (out of memory, or options the model does not support)");
    options_.contextSize = llama_n_ctx(ctx_);
    modelRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    model_->AddContext();
}

ContextWrap::~ContextWrap() { FreeNow(); }

void ContextWrap::FreeNow() {
    if (ctx_) {
        llama_free(ctx_);
        ctx_ = nullptr;
        model_->RemoveContext();
    }
}

Napi::Value ContextWrap::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("contextSize", Napi::Number::New(env, options_.contextSize));
    out.Set("batchSize", Napi::Number::New(env, options_.batchSize));
    out.Set("microBatchSize", Napi::Number::New(env, options_.microBatchSize));
    out.Set("sequences", Napi::Number::New(env, options_.sequences));
    out.Set("threads", Napi::Number::New(env, options_.threads));
    out.Set("disposed", Napi::Boolean::New(env, ctx_ == nullptr));
    return out;
}

// generate(prompts: Int32Array[], options, constraints?: (object | null)[]) -> Promise
Napi::Value ContextWrap::Generate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!ctx_ || disposeRequested_) Throw(env, "ERR_DISPOSED", "context is disposed");
    if (busy_) Throw(env, "ERR_BUSY", "a generation is already running on this context");
    if (info.Length() < 1 || !info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "prompts must be an array of token arrays");
    Napi::Array prompts = info[0].As<Napi::Array>();
    Napi::Object opts = OptObject(info, 1);
    const llama_vocab * vocab = model_->Vocab();
    const int32_t nVocab = llama_vocab_n_tokens(vocab);

    GenerateRequest req;
    const uint32_t n = prompts.Length();
    if (n == 0) Throw(env, "ERR_INVALID_ARG", "at least one prompt is required");
    if (n > options_.sequences) {
        Throw(env, "ERR_TOO_MANY_SEQUENCES", std::to_string(n) + " prompts but the context was created for " + std::to_string(options_.sequences) + " sequences");
    }
    double maxTokens = OptNumber(opts, "maxTokens", 256);
    if (!(maxTokens >= 1 && maxTokens <= options_.contextSize) || maxTokens != std::floor(maxTokens)) {
        Throw(env, "ERR_INVALID_ARG", "maxTokens must be an integer in 1..contextSize");
    }
    req.maxTokens = static_cast<int32_t>(maxTokens);
    // The same rules as lib/native/context.ts (which names the option first): a NaN or negative
    // value would otherwise quietly mean "greedy" or "no cut".
    const double temperature = OptNumber(opts, "temperature", 0);
    if (!(temperature >= 0 && std::isfinite(temperature))) Throw(env, "ERR_INVALID_ARG", "temperature must be a finite number >= 0");
    const double topK = OptNumber(opts, "topK", 0);
    if (!(topK >= 0 && topK <= 2147483647.0) || topK != std::floor(topK)) Throw(env, "ERR_INVALID_ARG", "topK must be an integer >= 0 (0: no cut)");
    const double topP = OptNumber(opts, "topP", 1);
    if (!(topP > 0 && topP <= 1)) Throw(env, "ERR_INVALID_ARG", "topP must be a number in (0, 1]");
    req.temperature = static_cast<float>(temperature);
    req.topK = static_cast<int32_t>(topK);
    req.topP = static_cast<float>(topP);
    req.ignoreEos = OptBool(opts, "ignoreEos", false);
    req.logprobs = OptBool(opts, "logprobs", false);
    const double candidates = OptNumber(opts, "candidates", 16);
    if (!(candidates >= 0 && candidates <= 1024) || candidates != std::floor(candidates)) Throw(env, "ERR_INVALID_ARG", "candidates must be an integer in 0..1024 (0: the constraint sees every token)");
    req.candidates = static_cast<int32_t>(candidates);
    {
        Napi::Value j = opts.Get("jumpForward");
        if (j.IsUndefined()) req.jump = JumpMode::Verify;  // as lib/native/context.ts
        else if (j.IsBoolean() && j.As<Napi::Boolean>().Value()) req.jump = JumpMode::Force;
        else if (j.IsBoolean()) req.jump = JumpMode::Off;
        else if (j.IsString() && j.As<Napi::String>().Utf8Value() == "force") req.jump = JumpMode::Force;
        else if (j.IsString() && j.As<Napi::String>().Utf8Value() == "verify") req.jump = JumpMode::Verify;
        else Throw(env, "ERR_INVALID_ARG", "jumpForward must be true, false, 'force' or 'verify'");
    }
    req.threads = options_.threads;
    const double seed = OptNumber(opts, "seed", 0);
    if (seed < 0 || seed > 4294967295.0 || seed != std::floor(seed)) Throw(env, "ERR_INVALID_ARG", "seed must be an integer in 0..2^32-1");

    uint64_t needed = 0;
    for (uint32_t s = 0; s < n; ++s) {
        Napi::Value v = prompts.Get(s);
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
            Throw(env, "ERR_INVALID_ARG", "prompt " + std::to_string(s) + " must be an Int32Array of token ids");
        }
        auto arr = v.As<Napi::Int32Array>();
        std::vector<llama_token> tokens(arr.Data(), arr.Data() + arr.ElementLength());
        if (tokens.empty()) {
            // An empty prompt means "start from BOS"; without a BOS token there is nothing to start from.
            llama_token bos = llama_vocab_bos(vocab);
            if (bos == LLAMA_TOKEN_NULL) Throw(env, "ERR_EMPTY_PROMPT", "prompt " + std::to_string(s) + " is empty and the model has no BOS token");
            tokens.push_back(bos);
        }
        for (size_t i = 0; i < tokens.size(); ++i) {
            if (tokens[i] < 0 || tokens[i] >= nVocab) {
                Throw(env, "ERR_INVALID_TOKEN", "prompt " + std::to_string(s) + " has token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) + ", outside the vocabulary");
            }
        }
        needed += tokens.size() + static_cast<uint64_t>(req.maxTokens);
        req.prompts.push_back(std::move(tokens));
        req.seeds.push_back(static_cast<uint32_t>(seed));
    }
    if (needed > options_.contextSize) {
        Throw(env, "ERR_CONTEXT_OVERFLOW", "prompts plus maxTokens need " + std::to_string(needed) + " cells but the context holds " + std::to_string(options_.contextSize));
    }

    std::vector<Napi::ObjectReference> keepAlive;
    req.constraints.assign(n, nullptr);
    if (info.Length() > 2 && info[2].IsArray()) {
        Napi::Array cons = info[2].As<Napi::Array>();
        if (cons.Length() != n) Throw(env, "ERR_INVALID_ARG", "constraints must have one entry per prompt");
        for (uint32_t s = 0; s < n; ++s) {
            Napi::Value c = cons.Get(s);
            if (c.IsNull() || c.IsUndefined()) continue;
            ConstraintSource * src = UnwrapConstraint(c);
            if (!src) Throw(env, "ERR_INVALID_ARG", "constraint " + std::to_string(s) + " is not a constraint object");
            req.constraints[s] = src;
            keepAlive.push_back(Napi::Persistent(c.As<Napi::Object>()));
        }
    }

    busy_ = true;
    abortRequested_ = false;  // reset on the JS thread, so an abort() right after this call is kept
    return (new GenerateWorker(this, std::move(req), std::move(keepAlive)))->Start();
}

// setAdapters([{ id, scale }]): the LoRA adapters (loaded on the model) this context applies.
Napi::Value ContextWrap::SetAdapters(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!ctx_ || disposeRequested_) Throw(env, "ERR_DISPOSED", "context is disposed");
    if (busy_) Throw(env, "ERR_BUSY", "cannot change adapters while a generation is running");
    if (info.Length() < 1 || !info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "adapters must be an array");
    Napi::Array arr = info[0].As<Napi::Array>();
    std::vector<llama_adapter_lora *> adapters;
    std::vector<float> scales;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
        Napi::Value v = arr.Get(i);
        if (!v.IsObject()) Throw(env, "ERR_INVALID_ARG", "adapter entries must be objects");
        Napi::Object o = v.As<Napi::Object>();
        double id = OptNumber(o, "id", -1);
        llama_adapter_lora * a = id >= 0 && id == std::floor(id) ? model_->Adapter(static_cast<uint32_t>(id)) : nullptr;
        if (!a) Throw(env, "ERR_INVALID_ARG", "adapter " + std::to_string(i) + " is not loaded on this model");
        adapters.push_back(a);
        scales.push_back(static_cast<float>(OptNumber(o, "scale", 1)));
    }
    if (llama_set_adapters_lora(ctx_, adapters.data(), adapters.size(), scales.data()) != 0) {
        Throw(env, "ERR_ADAPTER_LOAD", "llama.cpp refused the adapters for this context");
    }
    return env.Undefined();
}

Napi::Value ContextWrap::Abort(const Napi::CallbackInfo & info) {
    if (busy_) abortRequested_ = true;
    return info.Env().Undefined();
}

Napi::Value ContextWrap::Dispose(const Napi::CallbackInfo & info) {
    if (busy_) {
        disposeRequested_ = true;
        abortRequested_ = true;
    } else {
        FreeNow();
    }
    return info.Env().Undefined();
}

}  // namespace mfner
