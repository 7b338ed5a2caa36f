// Small shared helpers for the addon: typed errors with stable codes, argument conversion.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <cctype>
#include <string>

namespace mfner {

// Set on a thread while llama.cpp winds down a generation we aborted, so its error logs about
// the interrupted graph are not shown (see addon.cpp's log callback).
inline thread_local bool t_quietLogs = false;

// An error with a stable code (ERR_*) that JS sees as `err.code`. Messages never carry user text.
class CodedError : public std::runtime_error {
public:
    CodedError(std::string code, const std::string & message) : std::runtime_error(message), code_(std::move(code)) {}
    const std::string & code() const { return code_; }

private:
    std::string code_;
};

// ASCII lower case (type and option names).
inline std::string LowerAscii(std::string s) {
    for (auto & c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

inline Napi::Error MakeError(Napi::Env env, const std::string & code, const std::string & message) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err;
}

[[noreturn]] inline void Throw(Napi::Env env, const std::string & code, const std::string & message) {
    throw MakeError(env, code, message);
}

// Reads an optional numeric option; throws ERR_INVALID_ARG for a wrong type.
inline double OptNumber(const Napi::Object & obj, const char * key, double fallback) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsNumber()) Throw(obj.Env(), "ERR_INVALID_ARG", std::string("option ") + key + " must be a number");
    return v.As<Napi::Number>().DoubleValue();
}

inline bool OptBool(const Napi::Object & obj, const char * key, bool fallback) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsBoolean()) Throw(obj.Env(), "ERR_INVALID_ARG", std::string("option ") + key + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
}

inline std::string OptString(const Napi::Object & obj, const char * key, const std::string & fallback) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsString()) Throw(obj.Env(), "ERR_INVALID_ARG", std::string("option ") + key + " must be a string");
    return v.As<Napi::String>().Utf8Value();
}

inline Napi::Object OptObject(const Napi::CallbackInfo & info, size_t i) {
    if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return Napi::Object::New(info.Env());
    if (!info[i].IsObject()) Throw(info.Env(), "ERR_INVALID_ARG", "options must be an object");
    return info[i].As<Napi::Object>();
}

inline std::string ArgString(const Napi::CallbackInfo & info, size_t i, const char * what) {
    if (info.Length() <= i || !info[i].IsString()) Throw(info.Env(), "ERR_INVALID_ARG", std::string(what) + " must be a string");
    return info[i].As<Napi::String>().Utf8Value();
}

// Rejects a deferred with a coded error from a worker's failure.
inline void RejectCoded(Napi::Promise::Deferred & deferred, const std::string & code, const std::string & message) {
    deferred.Reject(MakeError(deferred.Env(), code, message).Value());
}

}  // namespace mfner
