#include "TokenTrie.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "Model.h"
#include "util.h"

namespace mfner {

Napi::FunctionReference TokenTrieWrap::constructor;

void TrieData::Build(const llama_vocab * v) {
    vocab = v;
    nVocab = llama_vocab_n_tokens(v);
    pieces.assign(nVocab, std::string());
    isEog.assign(nVocab, 0);
    std::vector<char> buf(256);
    std::vector<int32_t> order;
    for (int32_t id = 0; id < nVocab; ++id) {
        if (llama_vocab_is_eog(v, id)) {
            isEog[id] = 1;
            eog.push_back(id);
            continue;
        }
        int32_t n = llama_token_to_piece(v, id, buf.data(), static_cast<int32_t>(buf.size()), 0, true);
        if (n < 0) {
            buf.resize(static_cast<size_t>(-n));
            n = llama_token_to_piece(v, id, buf.data(), static_cast<int32_t>(buf.size()), 0, true);
        }
        if (n <= 0 || buf[0] == 0) continue;  // never allowed, as in llama.cpp's grammar
        pieces[id].assign(buf.data(), static_cast<size_t>(n));
        order.push_back(id);
    }
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return pieces[a] < pieces[b]; });
    nodes.clear();
    toks.clear();
    nodes.push_back(Node{0, 0, 0, 0, 0});
    std::vector<uint32_t> path{0};  // node index at each depth
    const std::string * prev = nullptr;
    for (int32_t id : order) {
        const std::string & p = pieces[id];
        size_t lcp = 0;
        if (prev) while (lcp < prev->size() && lcp < p.size() && (*prev)[lcp] == p[lcp]) ++lcp;
        while (path.size() > lcp + 1) {
            nodes[path.back()].next = static_cast<uint32_t>(nodes.size());
            path.pop_back();
        }
        for (size_t d = lcp; d < p.size(); ++d) {
            path.push_back(static_cast<uint32_t>(nodes.size()));
            nodes.push_back(Node{0, 0, 0, static_cast<uint16_t>(std::min<size_t>(d + 1, 65535)), static_cast<uint8_t>(p[d])});
        }
        Node & leaf = nodes[path.back()];
        if (leaf.ntok == 0) leaf.tok0 = static_cast<uint32_t>(toks.size());
        // equal pieces are adjacent after the sort, so a node's tokens are contiguous
        toks.push_back(id);
        ++leaf.ntok;
        maxDepth = std::max<uint32_t>(maxDepth, static_cast<uint32_t>(p.size()));
        prev = &p;
    }
    while (!path.empty()) {
        nodes[path.back()].next = static_cast<uint32_t>(nodes.size());
        path.pop_back();
    }
}

void TrieData::Mask(const ner::Machine & m, const ner::MState & s, const ner::UsedCounts * used, std::vector<int32_t> & out) const {
    out.clear();
    thread_local std::vector<ner::MState> st;
    if (st.size() < maxDepth + 1) st.resize(maxDepth + 1);
    st[0] = s;
    const uint32_t n = static_cast<uint32_t>(nodes.size());
    for (uint32_t i = 1; i < n;) {
        const Node & node = nodes[i];
        ner::MState t = st[node.depth - 1];
        if (m.StepByte(t, node.byte, used)) {
            st[node.depth] = t;
            for (uint32_t k = 0; k < node.ntok; ++k) out.push_back(toks[node.tok0 + k]);
            ++i;
        } else {
            i = node.next;
        }
    }
    if (m.Accepting(s, used)) out.insert(out.end(), eog.begin(), eog.end());
    std::sort(out.begin(), out.end());
}

uint32_t TrieData::Child(uint32_t node, uint8_t b) const {
    const uint32_t end = node == 0 ? static_cast<uint32_t>(nodes.size()) : nodes[node].next;
    for (uint32_t j = node + 1; j < end; j = nodes[j].next) {
        if (nodes[j].byte == b) return j;
        if (nodes[j].byte > b) break;  // siblings are sorted by byte
    }
    return 0;
}

bool TrieData::AnyBelow(uint32_t node, const ner::Machine & m, const ner::MState & s, const ner::UsedCounts * used) const {
    const uint32_t end = node == 0 ? static_cast<uint32_t>(nodes.size()) : nodes[node].next;
    if (node + 1 >= end) return false;
    const uint32_t base = node == 0 ? 0 : nodes[node].depth;
    std::vector<ner::MState> st(1, s);
    for (uint32_t i = node + 1; i < end;) {
        const Node & n = nodes[i];
        const uint32_t d = n.depth - base;  // 1 for the node's children
        ner::MState t = st[d - 1];
        if (m.StepByte(t, n.byte, used)) {
            if (n.ntok > 0) return true;
            if (st.size() <= d) st.resize(d + 1);
            st[d] = t;
            ++i;
        } else {
            i = n.next;
        }
    }
    return false;
}

bool TrieData::Feed(const ner::Machine & m, ner::MState & s, int32_t token, const ner::UsedCounts * used) const {
    if (token < 0 || token >= nVocab) return false;
    if (isEog[token]) return m.Accepting(s, used);
    const std::string & p = pieces[token];
    if (p.empty()) return false;
    for (char c : p) if (!m.StepByte(s, static_cast<uint8_t>(c), used)) return false;
    return true;
}

Napi::Object TokenTrieWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass(env, "TokenTrie", {InstanceMethod<&TokenTrieWrap::Info>("info")});
    constructor = Napi::Persistent(func);
    exports.Set("TokenTrie", func);
    return exports;
}

// new TokenTrie(model): reads every token's text once (tens of ms for 150k tokens).
TokenTrieWrap::TokenTrieWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<TokenTrieWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ModelWrap::constructor.Value())) {
        Throw(env, "ERR_INVALID_ARG", "TokenTrie needs a Model as its first argument");
    }
    ModelWrap * model = ModelWrap::Unwrap(info[0].As<Napi::Object>());
    model->Require(env);
    auto t0 = std::chrono::steady_clock::now();
    data_ = std::make_shared<TrieData>();
    data_->Build(model->Vocab());
    buildMs_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    model_ = Napi::Persistent(info[0].As<Napi::Object>());
}

Napi::Value TokenTrieWrap::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("nodes", Napi::Number::New(env, static_cast<double>(data_->nodes.size())));
    out.Set("tokens", Napi::Number::New(env, static_cast<double>(data_->toks.size())));
    Napi::Array eog = Napi::Array::New(env, data_->eog.size());
    for (size_t i = 0; i < data_->eog.size(); ++i) eog.Set(static_cast<uint32_t>(i), Napi::Number::New(env, data_->eog[i]));
    out.Set("eog", eog);
    out.Set("maxDepth", Napi::Number::New(env, data_->maxDepth));
    out.Set("buildMs", Napi::Number::New(env, buildMs_));
    return out;
}

}  // namespace mfner
