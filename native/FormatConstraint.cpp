#include "FormatConstraint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "Model.h"
#include "util.h"

namespace mfner {

namespace {

using Clock = std::chrono::steady_clock;

// One sequence's constraint state: the machine state, the item texts already used, and masks
// memoised by state (cleared whenever the used counts change, since masks depend on them).
struct SeqSampler {
    std::shared_ptr<const TrieData> trie;
    std::shared_ptr<const ner::Machine> m;
    ner::MState s;
    ner::UsedCounts used;
    bool dead = false;
    std::unordered_map<ner::MState, std::vector<int32_t>, ner::MStateHash> memo;
    std::vector<uint8_t> bits;

    const std::vector<int32_t> & Mask() {
        static const std::vector<int32_t> kNone;
        if (dead) return kNone;
        auto it = memo.find(s);
        if (it != memo.end()) return it->second;
        if (memo.size() > 4096) memo.clear();
        std::vector<int32_t> out;
        trie->Mask(*m, s, &used, out);
        return memo.emplace(s, std::move(out)).first->second;
    }

    void Accept(llama_token token) {
        if (dead || token < 0 || token >= trie->nVocab) { dead = true; return; }
        if (trie->isEog[token]) { dead = true; return; }  // the answer is over
        const std::string & p = trie->pieces[token];
        if (p.empty()) { dead = true; return; }
        const bool counts = m->CountsItems();
        for (char c : p) {
            int32_t before = s.n;
            if (!m->StepByte(s, static_cast<uint8_t>(c), &used)) { dead = true; return; }
            if (counts && s.n != before && s.kLab >= 0) {
                ++used.counts[{s.kLab, s.kSam, s.kLen}];
                memo.clear();
            }
        }
    }
};

// Jump-forward: the forced bytes from the current state, and the tokens to feed for them.
constexpr size_t kMaxForcedBytes = 4096;

void ForcedBytesOf(const SeqSampler & q, std::string & out) {
    out.clear();
    if (!q.dead) q.m->ForcedBytes(q.s, &q.used, out, kMaxForcedBytes);
}

// Tokens for a prefix of the forced bytes F (see docs/decoding.md, "Jump-forward"):
//  1. cut: the first position c such that a token starting at c runs past the end of F with an
//     ending the automaton accepts (e.g. " The" over "Answer: |The"); bytes from c on are left to
//     the model, so it can still pick the tokens that join forced text and its own choice;
//  2. F[0, c) as llama.cpp's tokenizer writes it alone (canonical, what the model was trained on)
//     when those tokens spell it exactly, else greedily the longest trie token at each step.
bool ForcedTokensOf(const SeqSampler & q, std::vector<llama_token> & out, size_t maxTokens) {
    out.clear();
    if (q.dead || maxTokens == 0) return false;
    std::string f;
    ForcedBytesOf(q, f);
    if (f.empty()) return q.m->MustEnd(q.s, &q.used);
    const TrieData & t = *q.trie;
    // The state after F (the machine is deterministic, so it is the same whatever the split).
    ner::MState end = q.s;
    ner::UsedCounts used = q.used;
    for (char ch : f) {
        const int32_t before = end.n;
        q.m->StepByte(end, static_cast<uint8_t>(ch), &used);
        if (q.m->CountsItems() && end.n != before && end.kLab >= 0) ++used.counts[{end.kLab, end.kSam, end.kLen}];
    }
    size_t cut = f.size();
    for (size_t r = f.size() > t.maxDepth ? f.size() - t.maxDepth : 0; r < f.size(); ++r) {
        uint32_t node = 0;
        for (size_t i = r; i < f.size() && (node = t.Child(node, static_cast<uint8_t>(f[i]))) != 0;) ++i;
        if (node != 0 && t.AnyBelow(node, *q.m, end, &used)) { cut = r; break; }
    }
    if (cut == 0) return false;
    const std::string head = f.substr(0, cut);
    // canonical
    std::vector<llama_token> canon(head.size() + 8);
    int32_t n = llama_tokenize(t.vocab, head.data(), static_cast<int32_t>(head.size()), canon.data(), static_cast<int32_t>(canon.size()), false, false);
    if (n > 0) {
        canon.resize(static_cast<size_t>(n));
        std::string spelled;
        bool ok = true;
        for (llama_token id : canon) {
            if (id < 0 || id >= t.nVocab || t.pieces[id].empty()) { ok = false; break; }
            spelled += t.pieces[id];
        }
        if (ok && spelled == head) {
            out.assign(canon.begin(), canon.begin() + static_cast<std::ptrdiff_t>(std::min(maxTokens, canon.size())));
            return false;
        }
    }
    // greedy longest match
    for (size_t p = 0; p < head.size() && out.size() < maxTokens;) {
        uint32_t node = 0;
        int32_t best = -1;
        size_t bestLen = 0;
        for (size_t i = p; i < head.size(); ++i) {
            node = t.Child(node, static_cast<uint8_t>(head[i]));
            if (node == 0) break;
            if (t.nodes[node].ntok > 0) { best = t.toks[t.nodes[node].tok0]; bestLen = i + 1 - p; }
        }
        if (best < 0) break;
        out.push_back(best);
        p += bestLen;
    }
    return false;
}

const char * SamplerName(const llama_sampler *) { return "mfner-format"; }

void SamplerAccept(llama_sampler * smpl, llama_token token) { static_cast<SeqSampler *>(smpl->ctx)->Accept(token); }

// Keeps only the allowed candidates, compacted to the front, so later samplers (greedy, top-k,
// temperature) only ever see tokens that continue a valid answer.
void SamplerApply(llama_sampler * smpl, llama_token_data_array * cur_p) {
    auto * q = static_cast<SeqSampler *>(smpl->ctx);
    const std::vector<int32_t> & allowed = q->Mask();
    llama_token_data * d = cur_p->data;
    const size_t n = cur_p->size;
    size_t j = 0;
    bool identity = n == static_cast<size_t>(q->trie->nVocab);
    if (identity) {
        for (int32_t t : allowed) {
            if (d[t].id != t) { identity = false; break; }
            d[j++] = d[t];  // ascending ids, so j <= t: nothing unread is overwritten
        }
    }
    if (!identity && n <= 64) {
        // A few candidates (the greedy path's k best): look each up in the sorted mask.
        j = 0;
        for (size_t i = 0; i < n; ++i) if (std::binary_search(allowed.begin(), allowed.end(), d[i].id)) d[j++] = d[i];
    } else if (!identity) {
        j = 0;
        q->bits.assign(q->trie->nVocab, 0);
        for (int32_t t : allowed) q->bits[t] = 1;
        for (size_t i = 0; i < n; ++i) if (d[i].id >= 0 && d[i].id < q->trie->nVocab && q->bits[d[i].id]) d[j++] = d[i];
    }
    if (j == 0 && n == static_cast<size_t>(q->trie->nVocab)) {
        // Nothing can continue (should not happen): end the answer rather than crash the chain.
        // A shortlist (fewer candidates) with none allowed stays empty: the caller masks them all.
        for (size_t i = 0; i < n && j == 0; ++i) if (d[i].id >= 0 && d[i].id < q->trie->nVocab && q->trie->isEog[d[i].id]) { d[0] = d[i]; j = 1; }
        if (j == 0 && n > 0) j = 1;
    }
    cur_p->size = j;
    cur_p->selected = -1;
}

void SamplerReset(llama_sampler * smpl) {
    auto * q = static_cast<SeqSampler *>(smpl->ctx);
    q->s = q->m->Initial();
    q->used.counts.clear();
    q->memo.clear();
    q->dead = false;
}

llama_sampler * SamplerClone(const llama_sampler * smpl);
void SamplerFree(llama_sampler * smpl) { delete static_cast<SeqSampler *>(smpl->ctx); }

llama_sampler_i kSamplerIface = [] {
    llama_sampler_i i{};
    i.name = SamplerName;
    i.accept = SamplerAccept;
    i.apply = SamplerApply;
    i.reset = SamplerReset;
    i.clone = SamplerClone;
    i.free = SamplerFree;
    return i;
}();

llama_sampler * SamplerClone(const llama_sampler * smpl) {
    auto * q = static_cast<const SeqSampler *>(smpl->ctx);
    return llama_sampler_init(&kSamplerIface, new SeqSampler(*q));
}

// ---- spec reading -------------------------------------------------------------------------

ner::U32 U32Of(const Napi::Value & v, const char * what) {
    if (!v.IsString()) Throw(v.Env(), "ERR_INVALID_ARG", std::string("constraint spec: ") + what + " must be a string");
    return ner::DecodeUtf8(v.As<Napi::String>().Utf8Value());
}

std::vector<int32_t> IntsOf(const Napi::Object & o, const char * key) {
    Napi::Value v = o.Get(key);
    std::vector<int32_t> out;
    if (v.IsUndefined()) return out;
    if (!v.IsArray()) Throw(o.Env(), "ERR_INVALID_ARG", std::string("constraint spec: ") + key + " must be an array of integers");
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value x = a.Get(i);
        if (!x.IsNumber()) Throw(o.Env(), "ERR_INVALID_ARG", std::string("constraint spec: ") + key + " must be an array of integers");
        out.push_back(x.As<Napi::Number>().Int32Value());
    }
    return out;
}

ner::Labels LabelsOf(const Napi::Object & o) {
    ner::Labels l;
    Napi::Value v = o.Get("labels");
    if (v.IsArray()) {
        Napi::Array a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) l.items.push_back(U32Of(a.Get(i), "labels[]"));
    }
    if (l.items.size() > 30) Throw(o.Env(), "ERR_INVALID_ARG", "constraint spec: at most 30 labels");
    return l;
}

ner::OffsetSet SetOf(const Napi::Object & o, const char * key) {
    ner::OffsetSet s;
    s.v = IntsOf(o, key);
    std::sort(s.v.begin(), s.v.end());
    s.v.erase(std::unique(s.v.begin(), s.v.end()), s.v.end());
    return s;
}

std::vector<uint8_t> FlagsAt(const Napi::Object & o, const char * key, size_t len) {
    std::vector<uint8_t> f(len + 1, 0);
    for (int32_t p : IntsOf(o, key)) if (p >= 0 && static_cast<size_t>(p) <= len) f[p] = 1;
    return f;
}

std::shared_ptr<const ner::Machine> MachineOf(const Napi::Object & spec) {
    Napi::Env env = spec.Env();
    const std::string kind = OptString(spec, "kind", "");
    const int32_t cap = static_cast<int32_t>(OptNumber(spec, "maxEntities", 64));
    std::shared_ptr<ner::Machine> m;
    if (kind == "list") {
        ner::ListSpec ls;
        ls.prefix = U32Of(spec.Get("prefix"), "prefix");
        ls.sep = U32Of(spec.Get("separator"), "separator");
        ls.suffix = U32Of(spec.Get("suffix"), "suffix");
        ls.cap = cap;
        ls.jsonStrings = OptBool(spec, "jsonStrings", true);
        ls.counted = OptBool(spec, "countOccurrences", true);
        ls.ordered = OptBool(spec, "textOrder", false);
        Napi::Value items = spec.Get("item");
        if (!items.IsArray()) Throw(env, "ERR_INVALID_ARG", "constraint spec: item must be an array of fields");
        Napi::Array a = items.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
            Napi::Value f = a.Get(i);
            if (f.IsString()) { ls.item.push_back({ner::FieldKind::Lit, U32Of(f, "item[]")}); continue; }
            if (!f.IsObject()) Throw(env, "ERR_INVALID_ARG", "constraint spec: bad item field");
            std::string fk = OptString(f.As<Napi::Object>(), "slot", "");
            ner::FieldKind k;
            if (fk == "text") k = ner::FieldKind::Str;
            else if (fk == "label") k = ner::FieldKind::Label;
            else if (fk == "start") k = ner::FieldKind::Start;
            else if (fk == "end") k = ner::FieldKind::End;
            else if (fk == "slice") k = ner::FieldKind::Slice;
            else if (fk == "id") k = ner::FieldKind::Id;
            else Throw(env, "ERR_INVALID_ARG", "constraint spec: unknown slot " + fk);
            ls.item.push_back({k, {}});
        }
        if (ls.prefix.empty() || ls.item.empty() || ls.item[0].kind != ner::FieldKind::Lit || ls.item[0].lit.empty()) {
            Throw(env, "ERR_INVALID_ARG", "constraint spec: a list needs a prefix and an item starting with a literal");
        }
        for (size_t i = 1; i < ls.item.size(); ++i) {
            if (ls.item[i].kind == ner::FieldKind::Lit && ls.item[i].lit.empty()) Throw(env, "ERR_INVALID_ARG", "constraint spec: empty literal");
        }
        ner::U32 text = U32Of(spec.Get("text"), "text");
        // Where item texts may start (bit 1) and end (bit 2); absent means any substring.
        std::vector<uint8_t> bounds;
        if (!spec.Get("textStarts").IsUndefined() || !spec.Get("textEnds").IsUndefined()) {
            const auto starts = FlagsAt(spec, "textStarts", text.size());
            const auto ends = FlagsAt(spec, "textEnds", text.size());
            bounds.resize(starts.size());
            for (size_t i = 0; i < bounds.size(); ++i) bounds[i] = (starts[i] ? ner::ListMachine::kStartBound : 0) | (ends[i] ? ner::ListMachine::kEndBound : 0);
        }
        auto lm = std::make_shared<ner::ListMachine>(std::move(ls), std::move(text), LabelsOf(spec), SetOf(spec, "starts"), SetOf(spec, "ends"), std::move(bounds));
        m = lm;
    } else if (kind == "bio") {
        int32_t tokens = static_cast<int32_t>(OptNumber(spec, "tokens", 0));
        if (tokens < 1) Throw(env, "ERR_INVALID_ARG", "constraint spec: multi_bio needs a text with at least one token");
        m = std::make_shared<ner::BioMachine>(tokens, LabelsOf(spec), static_cast<int32_t>(OptNumber(spec, "maxLayers", 3)));
    } else if (kind == "tag") {
        ner::U32 text = U32Of(spec.Get("text"), "text");
        m = std::make_shared<ner::TagMachine>(OptBool(spec, "multi", false), text, LabelsOf(spec), FlagsAt(spec, "starts", text.size()),
                                              FlagsAt(spec, "ends", text.size()), static_cast<int32_t>(OptNumber(spec, "maxDepth", 3)), cap);
    } else {
        Throw(env, "ERR_INVALID_ARG", "constraint spec: kind must be list, bio or tag");
    }
    return m;
}

SeqSampler * NewState(std::shared_ptr<const TrieData> trie, std::shared_ptr<const ner::Machine> m) {
    auto * q = new SeqSampler();
    q->trie = std::move(trie);
    q->m = std::move(m);
    q->s = q->m->Initial();
    return q;
}

}  // namespace

Napi::Object FormatConstraintWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass(env, "FormatConstraint", {
        InstanceMethod<&FormatConstraintWrap::Allowed>("allowed"),
        InstanceMethod<&FormatConstraintWrap::Forced>("forced"),
        InstanceMethod<&FormatConstraintWrap::Info>("info"),
    });
    exports.Set("FormatConstraint", func);
    exports.Set("constraintMask", Napi::Function::New(env, ConstraintMask, "constraintMask"));
    exports.Set("constraintBench", Napi::Function::New(env, ConstraintBench, "constraintBench"));
    return exports;
}

// new FormatConstraint(trie, spec): spec is built by lib/decode (one per format and input).
FormatConstraintWrap::FormatConstraintWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<FormatConstraintWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(TokenTrieWrap::constructor.Value()) || !info[1].IsObject()) {
        Throw(env, "ERR_INVALID_ARG", "FormatConstraint needs a TokenTrie and a spec object");
    }
    trie_ = TokenTrieWrap::Unwrap(info[0].As<Napi::Object>())->Data();
    auto t0 = Clock::now();
    machine_ = MachineOf(info[1].As<Napi::Object>());
    buildMs_ = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    trieRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    AttachConstraint(info.This().As<Napi::Object>(), this);
}

llama_sampler * FormatConstraintWrap::NewSequenceSampler(const llama_vocab * vocab) {
    if (vocab != trie_->vocab) throw CodedError("ERR_CONSTRAINT_MODEL", "the format constraint was made for another model");
    return llama_sampler_init(&kSamplerIface, NewState(trie_, machine_));
}

void FormatConstraintWrap::ForcedBytes(llama_sampler * seq, std::string & out) const {
    out.clear();
    if (seq && seq->iface == &kSamplerIface) ForcedBytesOf(*static_cast<const SeqSampler *>(seq->ctx), out);
}

bool FormatConstraintWrap::ForcedTokens(llama_sampler * seq, std::vector<llama_token> & out, size_t maxTokens) const {
    out.clear();
    if (!seq || seq->iface != &kSamplerIface) return false;
    return ForcedTokensOf(*static_cast<const SeqSampler *>(seq->ctx), out, maxTokens);
}

// forced(tokens) -> { bytes: Buffer, tokens: Int32Array, end: boolean } | null: after `tokens`,
// the forced bytes, the tokens jump-forward would feed for them, and whether only
// end-of-generation may follow (tests and inspection).
Napi::Value FormatConstraintWrap::Forced(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        Throw(env, "ERR_INVALID_ARG", "forced needs an Int32Array of token ids");
    }
    auto arr = info[0].As<Napi::Int32Array>();
    std::unique_ptr<SeqSampler> q(NewState(trie_, machine_));
    for (size_t i = 0; i < arr.ElementLength(); ++i) {
        q->Accept(arr[i]);
        if (q->dead) return env.Null();
    }
    std::string bytes;
    ForcedBytesOf(*q, bytes);
    std::vector<llama_token> toks;
    const bool end = ForcedTokensOf(*q, toks, SIZE_MAX);
    Napi::Object out = Napi::Object::New(env);
    out.Set("bytes", Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size()));
    auto ta = Napi::Int32Array::New(env, toks.size());
    std::copy(toks.begin(), toks.end(), ta.Data());
    out.Set("tokens", ta);
    out.Set("end", Napi::Boolean::New(env, end));
    return out;
}

// allowed(tokens, { counting }) -> Int32Array of the tokens allowed after `tokens`, or null when
// `tokens` is not a valid start of an answer. Walks the trie directly (tests, random walks).
Napi::Value FormatConstraintWrap::Allowed(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        Throw(env, "ERR_INVALID_ARG", "allowed needs an Int32Array of token ids");
    }
    auto arr = info[0].As<Napi::Int32Array>();
    std::unique_ptr<SeqSampler> q(NewState(trie_, machine_));
    for (size_t i = 0; i < arr.ElementLength(); ++i) {
        q->Accept(arr[i]);
        if (q->dead) return env.Null();
    }
    const std::vector<int32_t> & mask = q->Mask();
    auto out = Napi::Int32Array::New(env, mask.size());
    std::copy(mask.begin(), mask.end(), out.Data());
    return out;
}

Napi::Value FormatConstraintWrap::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("buildMs", Napi::Number::New(env, buildMs_));
    return out;
}

namespace {

struct SamplerHolder {
    llama_sampler * s = nullptr;
    ~SamplerHolder() { if (s) llama_sampler_free(s); }
};

ModelWrap * ModelArg(const Napi::CallbackInfo & info) {
    if (info.Length() < 3 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ModelWrap::constructor.Value())) {
        Throw(info.Env(), "ERR_INVALID_ARG", "expected (model, constraint, tokens)");
    }
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        Throw(info.Env(), "ERR_INVALID_ARG", "tokens must be an Int32Array");
    }
    ModelWrap * m = ModelWrap::Unwrap(info[0].As<Napi::Object>());
    m->Require(info.Env());
    return m;
}

}  // namespace

// constraintMask(model, constraint, tokens) -> Int32Array (sorted) | null: the tokens the
// constraint's llama_sampler leaves after accepting `tokens`, over the full vocabulary.
Napi::Value ConstraintMask(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * model = ModelArg(info);
    ConstraintSource * src = UnwrapConstraint(info[1]);
    if (!src) Throw(env, "ERR_INVALID_ARG", "not a constraint object");
    const llama_vocab * vocab = model->Vocab();
    const int32_t nVocab = llama_vocab_n_tokens(vocab);
    SamplerHolder h;
    try {
        h.s = src->NewSequenceSampler(vocab);
        auto arr = info[2].As<Napi::Int32Array>();
        for (size_t i = 0; i < arr.ElementLength(); ++i) llama_sampler_accept(h.s, arr[i]);
    } catch (const CodedError & e) {
        Throw(env, e.code(), e.what());
    } catch (const std::exception &) {
        return env.Null();  // llama.cpp's grammar throws when a token does not fit
    }
    std::vector<llama_token_data> cur(nVocab);
    for (int32_t t = 0; t < nVocab; ++t) cur[t] = llama_token_data{t, 0.0f, 0.0f};
    llama_token_data_array cp{cur.data(), cur.size(), -1, false};
    llama_sampler_apply(h.s, &cp);
    std::vector<int32_t> ids;
    for (size_t i = 0; i < cp.size; ++i) if (std::isfinite(cp.data[i].logit)) ids.push_back(cp.data[i].id);
    std::sort(ids.begin(), ids.end());
    auto out = Napi::Int32Array::New(env, ids.size());
    std::copy(ids.begin(), ids.end(), out.Data());
    return out;
}

// constraintBench(model, constraint, tokens) -> Float64Array of microseconds: for each prefix of
// `tokens`, the time of one full-vocabulary apply (then the next token is accepted, untimed).
Napi::Value ConstraintBench(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * model = ModelArg(info);
    ConstraintSource * src = UnwrapConstraint(info[1]);
    if (!src) Throw(env, "ERR_INVALID_ARG", "not a constraint object");
    const llama_vocab * vocab = model->Vocab();
    const int32_t nVocab = llama_vocab_n_tokens(vocab);
    auto arr = info[2].As<Napi::Int32Array>();
    SamplerHolder h;
    std::vector<double> us;
    try {
        h.s = src->NewSequenceSampler(vocab);
        std::vector<llama_token_data> cur(nVocab);
        for (size_t i = 0; i < arr.ElementLength(); ++i) {
            for (int32_t t = 0; t < nVocab; ++t) cur[t] = llama_token_data{t, 0.0f, 0.0f};
            llama_token_data_array cp{cur.data(), cur.size(), -1, false};
            auto t0 = Clock::now();
            llama_sampler_apply(h.s, &cp);
            us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            llama_sampler_accept(h.s, arr[i]);
        }
    } catch (const CodedError & e) {
        Throw(env, e.code(), e.what());
    } catch (const std::exception &) {
        Throw(env, "ERR_CONSTRAINT", "a token of the bench sequence does not fit the constraint");
    }
    auto out = Napi::Float64Array::New(env, us.size());
    std::copy(us.begin(), us.end(), out.Data());
    return out;
}

}  // namespace mfner
