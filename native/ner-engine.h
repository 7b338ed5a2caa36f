// The constraint engine behind FormatConstraint: pure C++, no N-API, no llama.cpp types.
//  - Utf8: a byte-level driver that decodes UTF-8 and feeds whole code points to a machine,
//    checking partial characters (tokens that split a character) the way llama.cpp's grammar does;
//  - Sam: a suffix automaton over the input's code points (entity text = any substring);
//  - Machine: a deterministic code-point automaton whose whole state is one small POD (MState),
//    so one state per sequence, O(1) copies, and masks memoised by state;
//  - ListMachine (term, code, span, triple and BRAT formats), BioMachine, TagMachine.
// History that is not in MState (how often each item text was used) lives in UsedCounts, owned by
// the sequence and only read here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace mfner {
namespace ner {

using U32 = std::u32string;

inline bool IsSpace(uint32_t c) {  // JavaScript's \s
    return c == 9 || c == 10 || c == 11 || c == 12 || c == 13 || c == 32 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
           c == 0xFEFF;
}

inline U32 DecodeUtf8(const std::string & s) {
    U32 out;
    for (size_t i = 0; i < s.size();) {
        uint8_t b = static_cast<uint8_t>(s[i]);
        int n = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
        uint32_t v = n == 0 ? b : n == 1 ? (b & 0x1F) : n == 2 ? (b & 0x0F) : (b & 0x07);
        for (int k = 1; k <= n && i + k < s.size(); ++k) v = (v << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
        out.push_back(v);
        i += n + 1;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Suffix automaton over code points (cp-algorithms construction, sorted sparse transitions).
struct Sam {
    struct St {
        int32_t len = 0, link = -1;
        std::vector<std::pair<uint32_t, int32_t>> next;  // sorted by code point
    };
    std::vector<St> st;
    std::vector<int32_t> occ;         // |endpos|: how often each substring of the state occurs
    std::vector<uint8_t> endsNonSpace;  // the state's strings end with a non-space char
    std::vector<int32_t> ownEnd;      // the end (exclusive) of the prefix a state was made for; -1 for clones

    int32_t Next(int32_t v, uint32_t c) const {
        const auto & n = st[v].next;
        auto it = std::lower_bound(n.begin(), n.end(), std::make_pair(c, INT32_MIN));
        return it != n.end() && it->first == c ? it->second : -1;
    }
    void Set(int32_t v, uint32_t c, int32_t to) {
        auto & n = st[v].next;
        auto it = std::lower_bound(n.begin(), n.end(), std::make_pair(c, INT32_MIN));
        if (it != n.end() && it->first == c) it->second = to; else n.insert(it, {c, to});
    }

    void Build(const U32 & text) {
        st.clear();
        st.reserve(2 * text.size() + 2);
        st.push_back(St{});
        std::vector<uint8_t> clone(1, 0);
        std::vector<uint32_t> lastChar(1, 0);
        int32_t last = 0;
        for (uint32_t c : text) {
            int32_t cur = static_cast<int32_t>(st.size());
            st.push_back(St{st[last].len + 1, -1, {}});
            clone.push_back(0);
            lastChar.push_back(c);
            int32_t p = last;
            while (p != -1 && Next(p, c) < 0) { Set(p, c, cur); p = st[p].link; }
            if (p == -1) {
                st[cur].link = 0;
            } else {
                int32_t q = Next(p, c);
                if (st[p].len + 1 == st[q].len) {
                    st[cur].link = q;
                } else {
                    int32_t cl = static_cast<int32_t>(st.size());
                    St copy = st[q];
                    copy.len = st[p].len + 1;
                    st.push_back(copy);
                    clone.push_back(1);
                    lastChar.push_back(c);
                    while (p != -1 && Next(p, c) == q) { Set(p, c, cl); p = st[p].link; }
                    st[q].link = cl;
                    st[cur].link = cl;
                }
            }
            last = cur;
        }
        const size_t n = st.size();
        occ.assign(n, 0);
        for (size_t v = 1; v < n; ++v) occ[v] = clone[v] ? 0 : 1;
        std::vector<int32_t> order(n);
        for (size_t v = 0; v < n; ++v) order[v] = static_cast<int32_t>(v);
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return st[a].len > st[b].len; });
        for (int32_t v : order) if (st[v].link > 0) occ[st[v].link] += occ[v];
        endsNonSpace.assign(n, 0);
        for (size_t v = 1; v < n; ++v) endsNonSpace[v] = !IsSpace(lastChar[v]);
        ownEnd.assign(n, -1);
        for (size_t v = 1; v < n; ++v) if (!clone[v]) ownEnd[v] = st[v].len;
        byLen = order;
    }
    std::vector<int32_t> byLen;  // states by decreasing len (a topological order of transitions)

    // endpos of every state (the exclusive ends of its strings' occurrences), or false when they
    // would hold more than `budget` entries in all (only very repetitive texts come near).
    bool EndPositions(std::vector<std::vector<int32_t>> & out, size_t budget) const {
        const size_t n = st.size();
        size_t total = 0;
        for (int32_t v : byLen) total += static_cast<size_t>(occ[v]);
        if (total > budget) return false;
        out.assign(n, {});
        for (int32_t v : byLen) {
            if (ownEnd[v] >= 0) out[v].push_back(ownEnd[v]);
            if (st[v].link > 0) out[st[v].link].insert(out[st[v].link].end(), out[v].begin(), out[v].end());
        }
        return true;
    }

    // Per state: some extension (possibly empty) that avoids `forbidden` characters ends with a
    // non-space character, so a string that reached the state can still be closed.
    template <class Forbidden>
    std::vector<uint8_t> CanEnd(Forbidden forbidden) const {
        std::vector<uint8_t> out(st.size(), 0);
        for (int32_t v : byLen) {
            bool ok = v != 0 && endsNonSpace[v];
            for (auto & [c, u] : st[v].next) {
                if (ok) break;
                if (!forbidden(c)) ok = out[u] != 0;
            }
            out[v] = ok;
        }
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// Machine state: every field is plain data, compared and hashed bytewise.
struct MState {
    int32_t ph = 0, off = 0, fld = 0, alive = 0, n = 0;  // phase, literal offset, field, choice bits, items done
    int32_t sam = 0, len = 0, flags = 0, esc = 0, escv = 0;  // string slot
    int32_t mask = 0, num = 0, nd = 0, start = 0, end = 0, pos = 0;  // label bits / numbers / copy cursor
    int32_t kSam = 0, kLen = 0, kLab = -1;                   // the item key, kept until the item is counted
    int32_t after = -1;  // text order: the previous item's last position (the next starts after it)
    int32_t stack[4] = {0, 0, 0, 0}, lstack[4] = {0, 0, 0, 0};
    uint32_t utf = 0;
    int32_t rem = 0;  // partial UTF-8: value so far, continuation bytes still expected
    bool operator==(const MState & o) const { return std::memcmp(this, &o, sizeof(MState)) == 0; }
};

struct MStateHash {
    size_t operator()(const MState & s) const {
        const unsigned char * p = reinterpret_cast<const unsigned char *>(&s);
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < sizeof(MState); ++i) { h ^= p[i]; h *= 1099511628211ull; }
        return static_cast<size_t>(h);
    }
};

// How often each (label, SAM state, length) item was already written by this sequence.
struct UsedCounts {
    std::map<std::tuple<int32_t, int32_t, int32_t>, int32_t> counts;
    int32_t Get(int32_t lab, int32_t sam, int32_t len) const {
        auto it = counts.find({lab, sam, len});
        return it == counts.end() ? 0 : it->second;
    }
};

class Machine {
public:
    virtual ~Machine() = default;
    virtual MState Initial() const = 0;
    // Consumes one code point; false when the answer cannot continue with it.
    virtual bool Step(MState & s, uint32_t cp, const UsedCounts * used) const = 0;
    virtual bool Accepting(const MState & s, const UsedCounts * used) const = 0;
    // A superset of the code points Step may accept here (used for partial UTF-8 checks).
    virtual void Candidates(const MState & s, std::vector<uint32_t> & out) const = 0;
    // Whether completed items are counted in UsedCounts (key: kLab, kSam, kLen of the state).
    virtual bool CountsItems() const { return false; }
    bool counting = true;

    bool AnyInRange(const MState & s, uint32_t lo, uint32_t hi, const UsedCounts * used) const {
        std::vector<uint32_t> cands;
        Candidates(s, cands);
        for (uint32_t c : cands) {
            if (c < lo || c > hi) continue;
            MState t = s;
            if (Step(t, c, used)) return true;
        }
        return false;
    }

    // The one code point that may follow s, or -1 when there is a choice (two or more code
    // points, or the answer may end here) or nothing. Needs a whole-character state (rem == 0).
    int64_t ForcedCodePoint(const MState & s, const UsedCounts * used) const {
        if (s.rem != 0 || Accepting(s, used)) return -1;
        int64_t found = -1;
        auto consider = [&](uint32_t c) {
            if (c == static_cast<uint32_t>(found)) return true;
            MState t = s;
            if (!Step(t, c, used)) return true;
            if (found >= 0) return false;  // a second one: a choice
            found = c;
            return true;
        };
        std::vector<uint32_t> cands;  // likely ones first, so a choice is seen early
        Candidates(s, cands);
        for (uint32_t c : cands) if (!consider(c)) return -1;
        // Candidates is a superset for non-ASCII only; ASCII is checked exhaustively.
        for (uint32_t c = 1; c < 0x80; ++c) if (!consider(c)) return -1;
        return found;
    }

    // The bytes every continuation of s starts with, whole code points only, up to `max` bytes;
    // counted items completed on the way are counted in a copy of `used`.
    void ForcedBytes(MState s, const UsedCounts * used, std::string & out, size_t max) const {
        out.clear();
        UsedCounts local;
        bool copied = false;
        while (out.size() < max) {
            int64_t c = ForcedCodePoint(s, used);
            if (c < 0) return;
            const int32_t before = s.n;
            Step(s, static_cast<uint32_t>(c), used);
            if (CountsItems() && s.n != before && s.kLab >= 0) {
                if (!copied) { if (used) local = *used; used = &local; copied = true; }
                ++local.counts[{s.kLab, s.kSam, s.kLen}];
            }
            AppendUtf8(out, static_cast<uint32_t>(c));
        }
    }

    // Only end-of-generation may follow s (the answer is complete and cannot go on).
    bool MustEnd(const MState & s, const UsedCounts * used) const {
        if (s.rem != 0 || !Accepting(s, used)) return false;
        std::vector<uint32_t> cands;
        Candidates(s, cands);
        for (uint32_t c = 1; c < 0x80; ++c) cands.push_back(c);
        for (uint32_t c : cands) {
            MState t = s;
            if (Step(t, c, used)) return false;
        }
        return true;
    }

    static void AppendUtf8(std::string & out, uint32_t c) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }

    // One byte of a token's text (llama.cpp's decode rules).
    bool StepByte(MState & s, uint8_t b, const UsedCounts * used) const {
        if (s.rem > 0) {
            if ((b >> 6) != 2) return false;
            s.utf = (s.utf << 6) | (b & 0x3F);
            if (--s.rem == 0) {
                uint32_t cp = s.utf;
                s.utf = 0;
                return Step(s, cp, used);
            }
        } else {
            if (b == 0) return false;
            if (b < 0x80) return Step(s, b, used);
            int n = (b >> 4) == 0xF ? 3 : (b >> 4) == 0xE ? 2 : (b >> 4) >= 0xC ? 1 : -1;
            if (n < 0) return false;
            s.rem = n;
            s.utf = b & ((1u << (7 - n)) - 1);
        }
        // A character split by the token: some completion must be acceptable.
        if (s.rem == 1 && s.utf < 2) return false;
        uint32_t low = s.utf << (s.rem * 6), high = low | ((1u << (s.rem * 6)) - 1);
        if (low == 0) low = s.rem == 2 ? (1u << 11) : s.rem == 3 ? (1u << 16) : low;
        MState base = s;
        base.rem = 0;
        base.utf = 0;
        return AnyInRange(base, low, high, used);
    }
};

// ---------------------------------------------------------------------------------------------
// Shared input-dependent pieces.
struct Labels {
    std::vector<U32> items;  // as written in the answer (JSON-escaped where the format quotes them)
    int32_t All() const { return items.size() >= 31 ? 0x7FFFFFFF : (1 << items.size()) - 1; }
};

// Sorted allowed offsets with decimal-prefix queries.
struct OffsetSet {
    std::vector<int32_t> v;  // sorted, unique
    bool Contains(int32_t x) const { return std::binary_search(v.begin(), v.end(), x); }
    bool AnyIn(int64_t lo, int64_t hi) const {  // inclusive
        auto it = std::lower_bound(v.begin(), v.end(), static_cast<int32_t>(std::max<int64_t>(lo, INT32_MIN)));
        return it != v.end() && *it <= hi;
    }
    // Some x in the set with x > floor and x <= ceil whose decimal spelling starts with `num` (nd digits).
    bool PrefixViable(int64_t num, int32_t nd, int64_t floor, int64_t ceil) const {
        if (nd == 0) return AnyIn(floor + 1, ceil);
        if (num == 0) return nd == 1 && 0 > floor && 0 <= ceil && Contains(0);
        int64_t scale = 1;
        for (int m = 0; m + nd <= 10; ++m, scale *= 10) {
            int64_t lo = std::max(num * scale, floor + 1), hi = std::min((num + 1) * scale - 1, ceil);
            if (lo <= hi && AnyIn(lo, hi)) return true;
        }
        return false;
    }
};

}  // namespace ner
}  // namespace mfner
