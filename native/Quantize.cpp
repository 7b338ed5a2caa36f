#include "Quantize.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <sys/stat.h>
#include <utility>

#include "ModelCheck.h"
#include "PromiseWorker.h"
#include "llama.h"
#include "util.h"

namespace mfner {

namespace {

// The file types offered, by llama.cpp's own names (llama-quantize's). The very-low-bit IQ1/IQ2
// types are left out: llama.cpp refuses them without an importance matrix.
const std::pair<const char *, llama_ftype> kFileTypes[] = {
    {"f32", LLAMA_FTYPE_ALL_F32},         {"f16", LLAMA_FTYPE_MOSTLY_F16},       {"bf16", LLAMA_FTYPE_MOSTLY_BF16},
    {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},    {"q6_k", LLAMA_FTYPE_MOSTLY_Q6_K},
    {"q5_k_m", LLAMA_FTYPE_MOSTLY_Q5_K_M}, {"q5_k_s", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},
    {"q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},    {"q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"q4_k_s", LLAMA_FTYPE_MOSTLY_Q4_K_S},
    {"q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},    {"q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},     {"iq4_nl", LLAMA_FTYPE_MOSTLY_IQ4_NL},
    {"iq4_xs", LLAMA_FTYPE_MOSTLY_IQ4_XS}, {"q3_k_l", LLAMA_FTYPE_MOSTLY_Q3_K_L}, {"q3_k_m", LLAMA_FTYPE_MOSTLY_Q3_K_M},
    {"q3_k_s", LLAMA_FTYPE_MOSTLY_Q3_K_S}, {"q2_k", LLAMA_FTYPE_MOSTLY_Q2_K},    {"tq2_0", LLAMA_FTYPE_MOSTLY_TQ2_0},
    {"tq1_0", LLAMA_FTYPE_MOSTLY_TQ1_0},
};

std::string Names() {
    std::string out;
    for (const auto & f : kFileTypes) out += (out.empty() ? "" : ", ") + std::string(f.first);
    return out;
}

uint64_t FileSize(const std::string & path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

struct QuantizeSpec {
    std::string input, output, typeName;
    llama_ftype ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    int32_t threads = 1;
    bool pure = false;
};

class QuantizeWorker : public PromiseWorker {
public:
    QuantizeWorker(Napi::Env env, Napi::Object keep, QuantizeSpec spec)
        : PromiseWorker(env, keep, "ERR_QUANTIZE", "quantize failed"), spec_(std::move(spec)) {}

protected:
    void Run() override {
        CheckGgufFile(spec_.input);
        CheckModelHeader(spec_.input, false);
        llama_model_quantize_params p = llama_model_quantize_default_params();
        p.nthread = spec_.threads;
        p.ftype = spec_.ftype;
        p.allow_requantize = true;  // a quantized input is dequantized first (e.g. to f32 for a check)
        p.pure = spec_.pure;
        // written under a private name, renamed when complete: no half-written model at `output`
        const std::string tmp = spec_.output + "." + std::to_string(static_cast<unsigned long long>(std::random_device{}())) + ".partial";
        if (llama_model_quantize(spec_.input.c_str(), tmp.c_str(), &p) != 0) {
            std::remove(tmp.c_str());
            throw CodedError("ERR_QUANTIZE", "llama.cpp could not quantize the model to " + spec_.typeName + " (see its log above): " + spec_.input);
        }
        if (std::rename(tmp.c_str(), spec_.output.c_str()) != 0) {
            std::remove(tmp.c_str());
            throw CodedError("ERR_IO", "cannot write " + spec_.output);
        }
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        o.Set("type", Napi::String::New(env, spec_.typeName));
        o.Set("inputBytes", Napi::Number::New(env, static_cast<double>(FileSize(spec_.input))));
        o.Set("outputBytes", Napi::Number::New(env, static_cast<double>(FileSize(spec_.output))));
        return o;
    }

private:
    QuantizeSpec spec_;
};

}  // namespace

Napi::Value QuantizeModel(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = OptObject(info, 0);
    QuantizeSpec s;
    s.input = OptString(o, "input", "");
    s.output = OptString(o, "output", "");
    if (s.input.empty() || s.output.empty()) Throw(env, "ERR_INVALID_ARG", "input and output are required");
    if (s.input == s.output) Throw(env, "ERR_INVALID_ARG", "output must differ from input");
    s.typeName = OptString(o, "type", "q8_0");
    const std::string lower = LowerAscii(s.typeName);
    bool found = false;
    for (const auto & f : kFileTypes) {
        if (lower == f.first) {
            s.ftype = f.second;
            s.typeName = f.first;
            found = true;
        }
    }
    if (!found) Throw(env, "ERR_INVALID_ARG", "type must be one of " + Names());
    const double threads = OptNumber(o, "threads", 1);
    if (!(threads >= 1 && threads <= 1024) || threads != std::floor(threads)) Throw(env, "ERR_INVALID_ARG", "threads must be an integer >= 1");
    s.threads = static_cast<int32_t>(threads);
    s.pure = OptBool(o, "pure", false);
    return (new QuantizeWorker(env, o, std::move(s)))->Start();
}

}  // namespace mfner
