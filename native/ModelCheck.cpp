#include "ModelCheck.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "gguf.h"
#include "util.h"

namespace mfner {

void CheckGgufFile(const std::string & path, bool adapter) {
    const std::string what = adapter ? "adapter" : "model";
    const std::string badCode = adapter ? "ERR_ADAPTER_LOAD" : "ERR_MODEL_LOAD";
    // stat before open: opening a FIFO blocks until a writer comes, a device may never end.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw CodedError("ERR_MODEL_NOT_FOUND", what + " file not found or not readable: " + path);
    if (S_ISDIR(st.st_mode)) throw CodedError(badCode, what + " path is a directory, not a GGUF file: " + path);
    if (!S_ISREG(st.st_mode)) {
        throw CodedError(badCode, what + " path is not a regular file (a FIFO, socket or device), so it is not read: " + path);
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) throw CodedError("ERR_MODEL_NOT_FOUND", what + " file not found or not readable: " + path);
    char magic[4] = {0, 0, 0, 0};
    f.read(magic, 4);
    if (f.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0) {
        throw CodedError("ERR_NOT_GGUF", "not a GGUF " + what + " file (bad magic): " + path);
    }
}

namespace {

constexpr uint32_t kMaxLayers = 512;    // LLAMA_MAX_LAYERS (src/llama-hparams.h)
constexpr uint32_t kMaxExperts = 1024;  // LLAMA_MAX_EXPERTS

// Architectures whose graph (src/models/*.cpp of the pinned llama.cpp) asserts
// n_embd_head_k == n_embd_head_v == n_rot: listed from the source, by general.architecture.
const std::unordered_set<std::string> & FullRopeArchitectures() {
    static const std::unordered_set<std::string> names = {
        "apertus", "arcee", "arctic", "baichuan", "chameleon", "codeshell", "cogvlm", "cohere2moe", "dbrx", "deci", "deepseek",
        "dots1", "dream", "ernie4_5", "ernie4_5-moe", "exaone", "exaone-moe", "exaone4", "falcon", "granite", "granite_swa",
        "graniteswitch", "grok", "grovemoe", "hunyuan-moe", "hunyuan_vl", "hy_v3", "internlm2", "jais2", "llada", "llada-moe",
        "llama", "llama4", "maincoder", "mellum", "minimax-01", "minimax-m2", "mistral3", "nemotron", "olmo", "olmo2", "olmoe",
        "orion", "paddleocr", "pangu-embedded", "plamo", "pockettts", "qwen2", "qwen2moe", "qwen2vl", "qwen3", "qwen3moe",
        "qwen3vl", "qwen3vlmoe", "rnd1", "seed_oss", "smallthinker", "smollm3", "starcoder2", "talkie", "xverse",
    };
    return names;
}

struct GgufDeleter {
    void operator()(gguf_context * g) const { if (g) gguf_free(g); }
};

class Header {
public:
    Header(gguf_context * g, std::string path) : g_(g), path_(std::move(path)) {}

    [[noreturn]] void Fail(const std::string & key, const std::string & rule) const {
        throw CodedError("ERR_MODEL_LOAD", "invalid model header: " + key + " " + rule + " (llama.cpp would abort on it): " + path_);
    }

    // Values are read only with the type llama.cpp reads them with; another type is left to
    // llama.cpp, which refuses it with an error of its own.
    std::optional<uint32_t> U32(const std::string & key) const {
        const int64_t k = gguf_find_key(g_, key.c_str());
        if (k < 0 || gguf_get_kv_type(g_, k) != GGUF_TYPE_UINT32) return std::nullopt;
        return gguf_get_val_u32(g_, k);
    }
    std::optional<float> F32(const std::string & key) const {
        const int64_t k = gguf_find_key(g_, key.c_str());
        if (k < 0 || gguf_get_kv_type(g_, k) != GGUF_TYPE_FLOAT32) return std::nullopt;
        return gguf_get_val_f32(g_, k);
    }
    std::optional<std::string> Str(const std::string & key) const {
        const int64_t k = gguf_find_key(g_, key.c_str());
        if (k < 0 || gguf_get_kv_type(g_, k) != GGUF_TYPE_STRING) return std::nullopt;
        return std::string(gguf_get_val_str(g_, k));
    }
    // A per-layer value as llama.cpp's get_key_or_arr reads it: one u32 for every layer, or an
    // array of n u32/i32/bool (copied as uint32). Absent, or a shape llama.cpp refuses: nullopt.
    std::optional<std::vector<uint32_t>> PerLayer(const std::string & key, uint32_t n) const {
        const int64_t k = gguf_find_key(g_, key.c_str());
        if (k < 0) return std::nullopt;
        if (gguf_get_kv_type(g_, k) == GGUF_TYPE_UINT32) return std::vector<uint32_t>(n, gguf_get_val_u32(g_, k));
        if (gguf_get_kv_type(g_, k) != GGUF_TYPE_ARRAY || gguf_get_arr_n(g_, k) != n) return std::nullopt;
        const gguf_type t = gguf_get_arr_type(g_, k);
        std::vector<uint32_t> out(n);
        if (t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_INT32) {
            std::memcpy(out.data(), gguf_get_arr_data(g_, k), n * sizeof(uint32_t));
        } else if (t == GGUF_TYPE_BOOL) {
            const auto * b = static_cast<const int8_t *>(gguf_get_arr_data(g_, k));
            for (uint32_t i = 0; i < n; ++i) out[i] = b[i] != 0;
        } else {
            return std::nullopt;
        }
        return out;
    }
    gguf_context * g() const { return g_; }

private:
    gguf_context * g_;
    std::string path_;
};

// llama_vocab::load maps every token string to its id and asserts the map is as long as the list:
// two equal strings abort. (An empty token is renamed "[EMPTY_<id>]" first, so that counts too.)
void CheckTokens(const Header & h) {
    const char * key = "tokenizer.ggml.tokens";
    const int64_t k = gguf_find_key(h.g(), key);
    if (k < 0 || gguf_get_kv_type(h.g(), k) != GGUF_TYPE_ARRAY || gguf_get_arr_type(h.g(), k) != GGUF_TYPE_STRING) return;
    const size_t n = gguf_get_arr_n(h.g(), k);
    std::unordered_set<std::string> seen;
    seen.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        std::string word = gguf_get_arr_str(h.g(), k, i);
        if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]";
        if (!seen.insert(std::move(word)).second) h.Fail(key, "has the same token string twice");
    }
}

// The asserts of llama_model_base::load_hparams, and those of the attention graphs that follow
// from the head sizes (ggml_rope, the GQA broadcast, the per-architecture graph asserts).
void CheckHyperParameters(const Header & h) {
    const std::optional<std::string> archName = h.Str("general.architecture");
    if (!archName) return;  // llama.cpp refuses it
    const std::string arch = *archName;
    const auto key = [&](const char * suffix) { return arch + "." + suffix; };

    const std::optional<uint32_t> nLayer = h.U32(key("block_count"));
    if (!nLayer) return;  // absent or wrong type: llama.cpp refuses it
    if (*nLayer < 1 || *nLayer > kMaxLayers) h.Fail(key("block_count"), "must be in 1.." + std::to_string(kMaxLayers));
    const uint32_t n = *nLayer;
    if (h.U32(key("nextn_predict_layers")).value_or(0) > n) h.Fail(key("nextn_predict_layers"), "must not exceed block_count");
    if (arch == "wavtokenizer-dec") {
        if (h.U32(key("posnet.block_count")).value_or(0) > n) h.Fail(key("posnet.block_count"), "must not exceed block_count");
        if (h.U32(key("convnext.block_count")).value_or(0) > n) h.Fail(key("convnext.block_count"), "must not exceed block_count");
    }

    // Experts.
    uint32_t nExpert = h.U32(key("expert_count")).value_or(0);
    std::vector<uint32_t> used = h.PerLayer(key("expert_used_count"), n).value_or(std::vector<uint32_t>(n, 0));
    if ((arch == "hunyuan_vl" || arch == "hunyuan-dense") && nExpert <= 1) {  // llama.cpp drops the experts of these
        nExpert = 0;
        std::fill(used.begin(), used.end(), 0);
    }
    const uint32_t usedMax = *std::max_element(used.begin(), used.end());
    const uint32_t groups = h.U32(key("expert_group_count")).value_or(0);
    const uint32_t groupsUsed = h.U32(key("expert_group_used_count")).value_or(0);
    if (nExpert > kMaxExperts) h.Fail(key("expert_count"), "must be at most " + std::to_string(kMaxExperts));
    if (usedMax > nExpert) h.Fail(key("expert_used_count"), "must not exceed expert_count");
    if (nExpert > 0) {
        if (usedMax == 0) h.Fail(key("expert_used_count"), "must be at least 1 when there are experts");
        if (groups >= nExpert) h.Fail(key("expert_group_count"), "must be below expert_count");
        if (groups > 1) {
            if (nExpert % groups != 0) h.Fail(key("expert_group_count"), "must divide expert_count");
            if (groupsUsed == 0 || groupsUsed >= groups) h.Fail(key("expert_group_used_count"), "must be in 1..expert_group_count-1");
        }
    } else if (groups != 0) {
        h.Fail(key("expert_group_count"), "must be 0 without experts");
    }

    if (const auto type = h.Str(key("rope.scaling.type"))) {
        if (*type != "none" && *type != "linear" && *type != "yarn" && *type != "longrope") {
            h.Fail(key("rope.scaling.type"), "must be none, linear, yarn or longrope");
        }
    }

    // Norm epsilons: ggml's norm kernels assert eps >= 0 (NaN fails it) while generating.
    for (const char * suffix : {"attention.layer_norm_epsilon", "attention.layer_norm_rms_epsilon", "attention.group_norm_epsilon"}) {
        if (const auto eps = h.F32(key(suffix))) {
            if (!std::isfinite(*eps) || *eps < 0) h.Fail(key(suffix), "must be a finite number >= 0");
        }
    }

    // Heads. n_head() is layer 0's head count; no heads means no attention (n_rot = 0).
    const std::optional<uint32_t> nEmbd = h.U32(key("embedding_length"));
    const auto heads = h.PerLayer(key("attention.head_count"), n);
    if (!nEmbd || !heads) return;  // left to llama.cpp
    const std::vector<uint32_t> kvHeads = h.PerLayer(key("attention.head_count_kv"), n).value_or(*heads);
    const bool fullRope = FullRopeArchitectures().count(arch) > 0;
    for (uint32_t l = 0; l < n; ++l) {
        if ((*heads)[l] == 0) continue;
        if (kvHeads[l] == 0) {
            if (fullRope) h.Fail(key("attention.head_count_kv"), "must be at least 1 in a layer with attention heads");
            continue;  // hybrid models: a recurrent layer has no KV heads
        }
        if ((*heads)[l] % kvHeads[l] != 0) h.Fail(key("attention.head_count_kv"), "must divide attention.head_count in every layer");
    }
    const uint32_t nHead = (*heads)[0];
    if (nHead == 0) return;
    const std::optional<uint32_t> keyLength = h.U32(key("attention.key_length"));
    const std::optional<uint32_t> valueLength = h.U32(key("attention.value_length"));
    const std::optional<uint32_t> ropeDims = h.U32(key("rope.dimension_count"));
    const uint32_t headK = keyLength.value_or(*nEmbd / nHead);
    const uint32_t headV = valueLength.value_or(*nEmbd / nHead);
    if (keyLength && headK == 0) h.Fail(key("attention.key_length"), "must be at least 1");
    if (valueLength && headV == 0) h.Fail(key("attention.value_length"), "must be at least 1");
    if (ropeDims && (*ropeDims % 2 != 0 || *ropeDims > headK)) {
        h.Fail(key("rope.dimension_count"), "must be even and at most the key head size");
    }
    if (fullRope) {
        if (headK == 0) h.Fail(key("embedding_length"), "must be at least attention.head_count");
        if (headK != headV) h.Fail(keyLength ? key("attention.key_length") : key("attention.value_length"), "must equal the other head size for this architecture");
        if (ropeDims.value_or(headK) != headK) h.Fail(key("rope.dimension_count"), "must equal the key head size for this architecture");
    }
}

}  // namespace

void CheckModelHeader(const std::string & path, bool vocabOnly) {
    gguf_init_params gp{};
    gp.no_alloc = true;
    gp.ctx = nullptr;
    std::unique_ptr<gguf_context, GgufDeleter> g(gguf_init_from_file(path.c_str(), gp));
    if (!g) return;  // llama.cpp reads the same header and refuses it with ERR_MODEL_LOAD
    const Header h(g.get(), path);
    CheckTokens(h);
    if (!vocabOnly) CheckHyperParameters(h);
}

}  // namespace mfner
