// The per-format automata (see ner-engine.h for the machinery and docs/decoding.md for the
// languages they accept).
#pragma once

#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "ner-engine.h"

namespace mfner {
namespace ner {

// ---------------------------------------------------------------------------------------------
// ListMachine: PREFIX (ITEM (SEP ITEM){0,cap-1})? SUFFIX, where an item is a sequence of fields:
// literals, an input substring (suffix automaton, JSON-escaped or raw), a label, a start and an
// end offset from the allowed boundary sets, a BRAT id (counts up) and a slice of the input
// forced by the offsets. Covers the term, code, span, triple and BRAT formats.
enum class FieldKind { Lit, Str, Label, Start, End, Slice, Id };
struct Field {
    FieldKind kind;
    U32 lit;
};

struct ListSpec {
    U32 prefix, sep, suffix;
    std::vector<Field> item;  // item[0] must be a literal
    int32_t cap = 64;
    bool jsonStrings = true;  // else raw text without ';' and line breaks (multi_triple)
    bool counted = false;     // repeated item texts are limited to their occurrences
    bool ordered = false;     // with word bounds: each item text starts after the previous one ends
};

class ListMachine : public Machine {
public:
    enum { kPrefix = 0, kChoice = 1, kField = 2, kDone = 3 };
    enum { kConsumed = 1, kReject = 0, kFinish = 2 };
    enum : uint8_t { kStartBound = 1, kEndBound = 2 };

    // `bounds` (empty, or flags per text position 0..size): where an item text may start
    // (kStartBound) and end (kEndBound). Empty: anywhere (any substring).
    ListMachine(ListSpec spec, U32 text, Labels labels, OffsetSet starts, OffsetSet ends, std::vector<uint8_t> bounds = {})
        : spec_(std::move(spec)), text_(std::move(text)), labels_(std::move(labels)), starts_(std::move(starts)), ends_(std::move(ends)) {
        bool hasStr = false;
        for (auto & f : spec_.item) hasStr = hasStr || f.kind == FieldKind::Str;
        if (hasStr) {
            sam_.Build(text_);
            const bool json = spec_.jsonStrings;
            canEnd_ = sam_.CanEnd([json](uint32_t c) { return !json && Forbidden(c); });
            if (bounds.size() == text_.size() + 1 && sam_.EndPositions(endpos_, kEndposBudget)) {
                bound_ = std::move(bounds);
                extOk_ = ExtensionEnds(text_, bound_, json);
                // startAfter_[p + 1]: an item text can start at some q > p (on a bound, at a
                // non-space, with a closable end ahead), so text order opens no dead-end item.
                const int32_t n = static_cast<int32_t>(text_.size());
                startAfter_.assign(n + 1, 0);
                for (int32_t q = n - 1; q >= 0; --q) {
                    const bool ok = (bound_[q] & kStartBound) && !IsSpace(text_[q]) && !(!json && Forbidden(text_[q])) && extOk_[q + 1];
                    startAfter_[q] = ok || startAfter_[q + 1];
                }
            }
        }
        for (size_t i = 0; i < spec_.item.size(); ++i) {
            if (spec_.item[i].kind == FieldKind::Label) labelField_ = static_cast<int32_t>(i);
            if (spec_.item[i].kind == FieldKind::Start && starts_.v.empty()) openable_ = false;  // no offset to write
        }
        labelAfterStr_ = false;
        for (size_t i = 0; i < spec_.item.size(); ++i) if (spec_.item[i].kind == FieldKind::Str) labelAfterStr_ = labelField_ > static_cast<int32_t>(i);
        aFirst_ = spec_.item[0].lit;
        aNext_ = spec_.sep + spec_.item[0].lit;
        // Offsets: an entity may not run over a line break (one line per BRAT entity).
        limit_.assign(text_.size() + 1, static_cast<int32_t>(text_.size()));
        int32_t lim = static_cast<int32_t>(text_.size());
        for (int32_t i = static_cast<int32_t>(text_.size()) - 1; i >= 0; --i) {
            if (text_[i] == '\n' || text_[i] == '\r') lim = i;
            limit_[i] = lim;
        }
    }

    const Sam & sam() const { return sam_; }
    // In text order an occurrence is never taken twice: nothing to count.
    bool Counted() const { return spec_.counted && counting && !Ordered(); }
    bool CountsItems() const override { return Counted(); }

    MState Initial() const override { return MState{}; }

    bool Step(MState & s, uint32_t c, const UsedCounts * used) const override {
        for (int guard = 0; guard < 8; ++guard) {
            switch (s.ph) {
                case kPrefix:
                    if (spec_.prefix[s.off] != c) return false;
                    if (++s.off == static_cast<int32_t>(spec_.prefix.size())) EnterChoice(s);
                    return true;
                case kChoice: {
                    const U32 & a = s.n == 0 ? aFirst_ : aNext_;
                    const U32 & b = spec_.suffix;
                    bool ia = (s.alive & 1) && s.off < static_cast<int32_t>(a.size()) && a[s.off] == c;
                    bool ib = (s.alive & 2) && s.off < static_cast<int32_t>(b.size()) && b[s.off] == c;
                    if (!ia && !ib) return false;
                    s.alive = (ia ? 1 : 0) | (ib ? 2 : 0);
                    ++s.off;
                    if (ia && s.off == static_cast<int32_t>(a.size())) {
                        s.ph = kField;
                        s.fld = 0;
                        NextField(s, used);
                    } else if (ib && s.off == static_cast<int32_t>(b.size())) {
                        s.ph = kDone;
                    }
                    return true;
                }
                case kField: {
                    int r = StepField(s, c, used);
                    if (r == kConsumed) return true;
                    if (r == kReject) return false;
                    NextField(s, used);  // finished without consuming: feed c to what follows
                    continue;
                }
                default:
                    return false;
            }
        }
        return false;
    }

    bool Accepting(const MState & s, const UsedCounts * used) const override {
        if (s.ph == kDone) return true;
        if (s.ph == kChoice) return (s.alive & 2) && s.off == static_cast<int32_t>(spec_.suffix.size());
        if (s.ph == kField) {
            MState t = s;
            if (!TryFinish(t, used)) return false;
            NextField(t, used);
            return t.ph == kChoice && Accepting(t, used);
        }
        return false;
    }

    void Candidates(const MState & s, std::vector<uint32_t> & out) const override {
        switch (s.ph) {
            case kPrefix: out.push_back(spec_.prefix[s.off]); return;
            case kChoice: {
                const U32 & a = s.n == 0 ? aFirst_ : aNext_;
                if ((s.alive & 1) && s.off < static_cast<int32_t>(a.size())) out.push_back(a[s.off]);
                if ((s.alive & 2) && s.off < static_cast<int32_t>(spec_.suffix.size())) out.push_back(spec_.suffix[s.off]);
                return;
            }
            case kField: {
                const Field & f = spec_.item[s.fld];
                switch (f.kind) {
                    case FieldKind::Lit: out.push_back(f.lit[s.off]); return;
                    case FieldKind::Str:
                        if (s.esc == 0) for (auto & [c, u] : sam_.st[s.sam].next) out.push_back(c);
                        break;
                    case FieldKind::Label:
                        for (size_t i = 0; i < labels_.items.size(); ++i)
                            if ((s.mask >> i) & 1 && s.off < static_cast<int32_t>(labels_.items[i].size())) out.push_back(labels_.items[i][s.off]);
                        break;
                    case FieldKind::Slice: if (s.pos < s.end) out.push_back(text_[s.pos]); return;
                    default: break;
                }
                MState t = s;
                if (f.kind != FieldKind::Slice && TryFinish(t, nullptr)) {
                    NextField(t, nullptr);
                    Candidates(t, out);
                }
                return;
            }
            default: return;
        }
    }

private:
    static bool Forbidden(uint32_t c) { return c == ';' || c == '\n' || c == '\r'; }
    static bool NeedsEscape(uint32_t c) { return c == '"' || c == '\\' || c < 0x20; }
    static bool IsUnicodeEscaped(uint32_t c) { return c < 0x20 && c != 8 && c != 9 && c != 10 && c != 12 && c != 13; }

    void EnterChoice(MState & s) const {
        s.ph = kChoice;
        s.off = 0;
        // Aligned, an item is opened only where one can start (after the cursor in text order).
        const bool room = openable_ && (!Aligned() || startAfter_[Ordered() ? s.after + 1 : 0]);
        s.alive = (s.n < spec_.cap && room ? 1 : 0) | 2;
    }

    // Moves past the current field (fld is the field just finished; -1 style start uses fld 0 = literal).
    void NextField(MState & s, const UsedCounts * used) const {
        ++s.fld;
        s.off = 0;
        if (s.fld >= static_cast<int32_t>(spec_.item.size())) {
            ++s.n;
            EnterChoice(s);
            return;
        }
        const Field & f = spec_.item[s.fld];
        switch (f.kind) {
            case FieldKind::Str: s.sam = 0; s.len = 0; s.flags = 0; s.esc = 0; s.escv = 0; break;
            case FieldKind::Label: s.mask = LabelStartMask(s, used); break;
            case FieldKind::Start: case FieldKind::End: s.num = 0; s.nd = 0; break;
            case FieldKind::Slice: s.pos = s.start; break;
            default: break;
        }
    }

    // Word bounds: some occurrence of the current string starts at a bound and can still be
    // extended (within the text, over allowed characters) to a bound after a non-space.
    bool Aligned() const { return !bound_.empty(); }
    // Text order: only occurrences starting after `after` (the previous item's last position;
    // -1, all of them, until an ordered item is written) count.
    bool Ordered() const { return spec_.ordered && Aligned(); }
    bool AlignedStart(int32_t sam, int32_t len, int32_t after) const {
        for (int32_t e : endpos_[sam]) if (e - len > after && (bound_[e - len] & kStartBound) && extOk_[e]) return true;
        return false;
    }
    // The occurrence of length len ending at e starts and ends at bounds, and after `after`.
    bool OnBounds(int32_t e, int32_t len, int32_t after) const {
        return e - len > after && (bound_[e - len] & kStartBound) && (bound_[e] & kEndBound);
    }
    // Occurrences of the string (sam, len) that start and end at bounds (and after `after`).
    int32_t AlignedOccurrences(int32_t sam, int32_t len, int32_t after) const {
        int32_t k = 0;
        for (int32_t e : endpos_[sam]) k += OnBounds(e, len, after);
        return k;
    }
    // The last position of the first such occurrence: the next item must start after it (the
    // earliest occurrence leaves the most room).
    int32_t FirstAlignedEnd(int32_t sam, int32_t len, int32_t after) const {
        int32_t best = -1;
        for (int32_t e : endpos_[sam])
            if (OnBounds(e, len, after) && (best < 0 || e < best)) best = e;
        return best - 1;
    }
    // extOk[e]: from position e, some bound f >= e after a non-space character is reachable
    // without crossing a character a raw (non-JSON) item text may not hold.
    static std::vector<uint8_t> ExtensionEnds(const U32 & text, const std::vector<uint8_t> & bound, bool json) {
        const int32_t n = static_cast<int32_t>(text.size());
        std::vector<uint8_t> ok(n + 1, 0);
        bool good = false;  // a good end at or after the position, reachable from it
        for (int32_t e = n; e >= 0; --e) {
            if (e < n && !json && Forbidden(text[e])) good = false;  // cannot step over text[e]
            if (e > 0 && (bound[e] & kEndBound) && !IsSpace(text[e - 1])) good = true;
            ok[e] = good;
        }
        return ok;
    }

    // How often the item text (sam, len) occurs where it may be written (on bounds when aligned).
    int32_t Occurrences(int32_t sam, int32_t len, int32_t after = -1) const { return Aligned() ? AlignedOccurrences(sam, len, after) : sam_.occ[sam]; }
    // What is left of `occ` occurrences for label `lab` after the items already written.
    int32_t Capacity(int32_t lab, int32_t sam, int32_t len, int32_t occ, const UsedCounts * used) const {
        if (!used || !Counted()) return occ;
        return occ - used->Get(lab, sam, len);
    }
    int32_t LabelStartMask(const MState & s, const UsedCounts * used) const {
        if (!labelAfterStr_ || !Counted() || !used) return labels_.All();
        const int32_t occ = Occurrences(s.kSam, s.kLen);
        int32_t m = 0;
        for (size_t i = 0; i < labels_.items.size(); ++i) if (Capacity(static_cast<int32_t>(i), s.kSam, s.kLen, occ, used) > 0) m |= 1 << i;
        return m;
    }
    // The item text (sam, len) can be closed: it ends with a non-space and some label may still take it.
    bool Closable(int32_t sam, int32_t len, const UsedCounts * used, int32_t after = -1) const {
        if (len == 0 || !sam_.endsNonSpace[sam]) return false;
        const int32_t occ = Occurrences(sam, len, after);
        if (occ == 0) return false;  // aligned: no occurrence starts and ends on bounds
        if (!Counted() || !used || used->counts.empty()) return true;
        if (!labelAfterStr_) return Capacity(0, sam, len, occ, used) > 0;
        for (size_t i = 0; i < std::max<size_t>(1, labels_.items.size()); ++i)
            if (Capacity(static_cast<int32_t>(i), sam, len, occ, used) > 0) return true;
        return false;
    }
    // Some extension of (sam, len) can still be closed (bounded search; used counts are few).
    bool Viable(int32_t sam, int32_t len, const UsedCounts * used) const {
        if (!canEnd_[sam]) return false;
        if (!Counted() || !used || used->counts.empty()) return true;
        std::vector<std::pair<int32_t, int32_t>> todo{{sam, len}};
        for (int budget = 512; !todo.empty() && budget > 0; --budget) {
            auto [v, l] = todo.back();
            todo.pop_back();
            if (Closable(v, l, used)) return true;
            for (auto & [c, u] : sam_.st[v].next)
                if (canEnd_[u] && !(!spec_.jsonStrings && Forbidden(c))) todo.emplace_back(u, l + 1);
        }
        return todo.empty() ? false : true;
    }

    // A decoded character of the item text.
    int FeedChar(MState & s, uint32_t x, const UsedCounts * used) const {
        if (s.len == 0 && IsSpace(x)) return kReject;
        int32_t u = sam_.Next(s.sam, x);
        if (u < 0 || (Aligned() && !AlignedStart(u, s.len + 1, s.after)) || !Viable(u, s.len + 1, used)) return kReject;
        s.sam = u;
        ++s.len;
        return kConsumed;
    }
    // Some next text character satisfies `pred` and can be fed.
    template <class Pred>
    bool AnyNext(const MState & s, Pred pred, const UsedCounts * used) const {
        for (auto & [c, u] : sam_.st[s.sam].next) {
            if (!pred(c)) continue;
            MState t = s;
            if (FeedChar(t, c, used) == kConsumed) return true;
        }
        return false;
    }

    int StepStr(MState & s, uint32_t c, const UsedCounts * used) const {
        if (!spec_.jsonStrings) {
            if (c == ';') return TryFinish(s, used) ? kFinish : kReject;
            if (Forbidden(c)) return kReject;
            return FeedChar(s, c, used);
        }
        if (s.esc == 0) {
            if (c == '"') return TryFinish(s, used) ? kFinish : kReject;
            if (c == '\\') {
                if (!AnyNext(s, [](uint32_t x) { return NeedsEscape(x); }, used)) return kReject;
                s.esc = 1;
                return kConsumed;
            }
            if (c < 0x20) return kReject;
            return FeedChar(s, c, used);
        }
        if (s.esc == 1) {
            uint32_t x;
            switch (c) {
                case '"': x = '"'; break;
                case '\\': x = '\\'; break;
                case 'n': x = 10; break;
                case 't': x = 9; break;
                case 'r': x = 13; break;
                case 'b': x = 8; break;
                case 'f': x = 12; break;
                case 'u':
                    if (!AnyNext(s, [](uint32_t y) { return IsUnicodeEscaped(y); }, used)) return kReject;
                    s.esc = 2;
                    s.escv = 0;
                    return kConsumed;
                default: return kReject;
            }
            s.esc = 0;
            return FeedChar(s, x, used);
        }
        // \u00XX, lowercase hex as JSON.stringify writes it
        int d = c >= '0' && c <= '9' ? static_cast<int>(c - '0') : c >= 'a' && c <= 'f' ? static_cast<int>(c - 'a' + 10) : -1;
        if (d < 0) return kReject;
        int k = s.esc - 2;  // digit index 0..3
        uint32_t v = static_cast<uint32_t>(s.escv) * 16 + d;
        if (k < 3) {
            int shift = 4 * (3 - k);
            if (!AnyNext(s, [&](uint32_t y) { return IsUnicodeEscaped(y) && (y >> shift) == v; }, used)) return kReject;
            s.escv = static_cast<int32_t>(v);
            ++s.esc;
            return kConsumed;
        }
        if (!IsUnicodeEscaped(v)) return kReject;
        s.esc = 0;
        s.escv = 0;
        return FeedChar(s, v, used);
    }

    int StepLabel(MState & s, uint32_t c, const UsedCounts * used) const {
        int32_t nm = 0;
        for (size_t i = 0; i < labels_.items.size(); ++i) {
            const U32 & l = labels_.items[i];
            if ((s.mask >> i) & 1 && s.off < static_cast<int32_t>(l.size()) && l[s.off] == c) nm |= 1 << i;
        }
        if (nm) {
            s.mask = nm;
            ++s.off;
            return kConsumed;
        }
        return TryFinish(s, used) ? kFinish : kReject;
    }

    int StepNumber(MState & s, uint32_t c, bool isEnd, const UsedCounts * used) const {
        const OffsetSet & set = isEnd ? ends_ : starts_;
        int64_t floor = isEnd ? s.start : -1;
        int64_t ceil = isEnd ? limit_[s.start] : INT32_MAX;
        if (c >= '0' && c <= '9') {
            if (s.nd > 0 && s.num == 0) return kReject;
            int64_t v = static_cast<int64_t>(s.num) * 10 + (c - '0');
            if (s.nd >= 9 || !set.PrefixViable(v, s.nd + 1, floor, ceil)) return kReject;
            s.num = static_cast<int32_t>(v);
            ++s.nd;
            return kConsumed;
        }
        return TryFinish(s, used) ? kFinish : kReject;
    }

    // Finishes the current (open-ended) field if it may end here; records what it read.
    bool TryFinish(MState & s, const UsedCounts * used) const {
        const Field & f = spec_.item[s.fld];
        switch (f.kind) {
            case FieldKind::Str:
                if (s.esc != 0 || !Closable(s.sam, s.len, used, s.after)) return false;
                if (Ordered()) s.after = FirstAlignedEnd(s.sam, s.len, s.after);
                s.kSam = s.sam;
                s.kLen = s.len;
                s.kLab = labelAfterStr_ ? -1 : 0;
                return true;
            case FieldKind::Label:
                for (size_t i = 0; i < labels_.items.size(); ++i) {
                    if ((s.mask >> i) & 1 && static_cast<int32_t>(labels_.items[i].size()) == s.off) {
                        if (labelAfterStr_) s.kLab = static_cast<int32_t>(i);
                        return true;
                    }
                }
                return false;
            case FieldKind::Start:
                if (s.nd == 0 || !starts_.Contains(s.num)) return false;
                s.start = s.num;
                return true;
            case FieldKind::End:
                if (s.nd == 0 || !ends_.Contains(s.num) || s.num <= s.start || s.num > limit_[s.start]) return false;
                s.end = s.num;
                return true;
            default:
                return false;
        }
    }

    int StepField(MState & s, uint32_t c, const UsedCounts * used) const {
        const Field & f = spec_.item[s.fld];
        switch (f.kind) {
            case FieldKind::Lit:
                if (f.lit[s.off] != c) return kReject;
                if (++s.off == static_cast<int32_t>(f.lit.size())) NextField(s, used);
                return kConsumed;
            case FieldKind::Id: {
                std::string id = std::to_string(s.n + 1);
                if (static_cast<uint32_t>(id[s.off]) != c) return kReject;
                if (++s.off == static_cast<int32_t>(id.size())) NextField(s, used);
                return kConsumed;
            }
            case FieldKind::Str: return StepStr(s, c, used);
            case FieldKind::Label: return StepLabel(s, c, used);
            case FieldKind::Start: return StepNumber(s, c, false, used);
            case FieldKind::End: return StepNumber(s, c, true, used);
            case FieldKind::Slice:
                if (s.pos >= s.end || text_[s.pos] != c) return kReject;
                if (++s.pos == s.end) NextField(s, used);
                return kConsumed;
        }
        return kReject;
    }

    ListSpec spec_;
    U32 text_;
    Labels labels_;
    OffsetSet starts_, ends_;
    static constexpr size_t kEndposBudget = size_t{1} << 22;
    Sam sam_;
    std::vector<uint8_t> canEnd_;
    std::vector<uint8_t> bound_, extOk_, startAfter_;  // empty: item texts unaligned
    bool openable_ = true;
    std::vector<std::vector<int32_t>> endpos_;
    std::vector<int32_t> limit_;
    int32_t labelField_ = -1;
    bool labelAfterStr_ = false;
    U32 aFirst_, aNext_;
};

// ---------------------------------------------------------------------------------------------
// BioMachine: "Layer k: " then exactly one label per token (O, B-x, I-x with I-x only after
// B-x or I-x), space-separated; up to maxLayers layers separated by newlines.
class BioMachine : public Machine {
public:
    // ph: 0 header literal, 1 label start, 2 after 'B'/'I' expects '-', 3 label type, 4 label done
    BioMachine(int32_t tokens, Labels labels, int32_t maxLayers) : n_(tokens), labels_(std::move(labels)), maxLayers_(maxLayers) {}

    MState Initial() const override {
        MState s;
        s.n = 1;  // layer number
        return s;
    }

    bool Step(MState & s, uint32_t c, const UsedCounts * used) const override {
        for (int guard = 0; guard < 4; ++guard) {
            switch (s.ph) {
                case 0: {
                    U32 h = Header(s.n);
                    if (h[s.off] != c) return false;
                    if (++s.off == static_cast<int32_t>(h.size())) { s.ph = 1; s.pos = 0; s.start = -1; }
                    return true;
                }
                case 1:
                    if (c == 'O') { s.end = -1; s.ph = 4; return true; }
                    if (c == 'B' || (c == 'I' && s.start >= 0)) { s.flags = c == 'I'; s.ph = 2; return true; }
                    return false;
                case 2:
                    if (c != '-') return false;
                    s.ph = 3;
                    s.off = 0;
                    s.mask = s.flags ? (1 << s.start) : labels_.All();
                    return true;
                case 3: {
                    int32_t nm = 0;
                    for (size_t i = 0; i < labels_.items.size(); ++i) {
                        const U32 & l = labels_.items[i];
                        if ((s.mask >> i) & 1 && s.off < static_cast<int32_t>(l.size()) && l[s.off] == c) nm |= 1 << i;
                    }
                    if (nm) { s.mask = nm; ++s.off; return true; }
                    int32_t done = Complete(s);
                    if (done < 0) return false;
                    s.end = done;
                    s.ph = 4;
                    continue;
                }
                case 4:  // a label just ended: separator
                    if (c == ' ' && s.pos + 1 < n_) { s.start = s.end; ++s.pos; s.ph = 1; return true; }
                    if (c == '\n' && s.pos + 1 == n_ && s.n < maxLayers_) { ++s.n; s.ph = 0; s.off = 0; return true; }
                    return false;
            }
        }
        return false;
    }

    bool Accepting(const MState & s, const UsedCounts *) const override {
        if (s.pos + 1 != n_) return false;
        if (s.ph == 4) return true;
        return s.ph == 3 && Complete(s) >= 0;
    }

    void Candidates(const MState & s, std::vector<uint32_t> & out) const override {
        if (s.ph == 0) { out.push_back(Header(s.n)[s.off]); return; }
        if (s.ph == 3)
            for (size_t i = 0; i < labels_.items.size(); ++i)
                if ((s.mask >> i) & 1 && s.off < static_cast<int32_t>(labels_.items[i].size())) out.push_back(labels_.items[i][s.off]);
    }

private:
    static U32 Header(int32_t layer) {  // a layer's newline is read as the previous layer's end
        std::string h = "Layer " + std::to_string(layer) + ": ";
        return U32(h.begin(), h.end());
    }
    int32_t Complete(const MState & s) const {
        for (size_t i = 0; i < labels_.items.size(); ++i)
            if ((s.mask >> i) & 1 && static_cast<int32_t>(labels_.items[i].size()) == s.off) return static_cast<int32_t>(i);
        return -1;
    }
    int32_t n_;
    Labels labels_;
    int32_t maxLayers_;
};

// ---------------------------------------------------------------------------------------------
// TagMachine: "Answer: " then the input copied exactly, with markup inserted only at token
// boundaries: single_tag "@@" (open, at a token start) and "##" (close, at a token end);
// multi_tag "<type>" and "</type>" closing the innermost open tag. Bounded nesting, no empty
// entity, everything closed at the end.
class TagMachine : public Machine {
public:
    // ph: 0 prefix, 1 copy, 2 single: second '@', 3 single: second '#',
    //     4 multi: after '<', 5 multi: open label, 6 multi: close label
    TagMachine(bool multi, U32 text, Labels labels, std::vector<uint8_t> startOk, std::vector<uint8_t> endOk, int32_t maxDepth, int32_t cap)
        : multi_(multi), text_(std::move(text)), labels_(std::move(labels)), startOk_(std::move(startOk)), endOk_(std::move(endOk)),
          maxDepth_(std::min<int32_t>(maxDepth, 4)), cap_(cap) {
        const int32_t len = static_cast<int32_t>(text_.size());
        markupAt_.assign(len + 1, 1);
        for (int32_t i = 0; i <= len; ++i) {
            bool clash = i < len && (multi_ ? text_[i] == '<' : (text_[i] == '@' || text_[i] == '#'));
            markupAt_[i] = !clash;
        }
        lastClose_ = -1;
        for (int32_t i = 0; i <= len; ++i) if (endOk_[i] && markupAt_[i]) lastClose_ = i;
    }

    MState Initial() const override { return MState{}; }

    bool Step(MState & s, uint32_t c, const UsedCounts *) const override {
        const int32_t len = static_cast<int32_t>(text_.size());
        switch (s.ph) {
            case 0:
                if (static_cast<uint32_t>(kPrefix[s.off]) != c) return false;
                if (++s.off == 8) s.ph = 1;
                return true;
            case 1:
                if (markupAt_[s.pos]) {
                    if (!multi_ && c == '@' && CanOpen(s)) { s.ph = 2; return true; }
                    if (!multi_ && c == '#' && CanClose(s)) { s.ph = 3; return true; }
                    if (multi_ && c == '<' && (CanOpen(s) || CanClose(s))) { s.ph = 4; return true; }
                }
                if (s.pos < len && text_[s.pos] == c && (s.mask == 0 || s.pos < lastClose_)) {
                    ++s.pos;
                    return true;
                }
                return false;
            case 2:
                if (c != '@') return false;
                Open(s, 0);
                return true;
            case 3:
                if (c != '#') return false;
                --s.mask;
                s.ph = 1;
                return true;
            case 4:
                if (c == '/' && CanClose(s)) { s.ph = 6; s.off = 0; return true; }
                if (!CanOpen(s)) return false;
                s.ph = 5;
                s.off = 0;
                s.num = labels_.All();
                return StepOpenLabel(s, c);
            case 5: return StepOpenLabel(s, c);
            case 6: {
                const U32 & l = labels_.items[s.lstack[s.mask - 1]];
                if (s.off < static_cast<int32_t>(l.size())) {
                    if (l[s.off] != c) return false;
                    ++s.off;
                    return true;
                }
                if (c != '>') return false;
                --s.mask;
                s.ph = 1;
                return true;
            }
        }
        return false;
    }

    bool Accepting(const MState & s, const UsedCounts *) const override {
        return s.ph == 1 && s.mask == 0 && s.pos == static_cast<int32_t>(text_.size());
    }

    void Candidates(const MState & s, std::vector<uint32_t> & out) const override {
        if (s.ph == 1 && s.pos < static_cast<int32_t>(text_.size())) out.push_back(text_[s.pos]);
        if (s.ph == 4 || s.ph == 5)
            for (size_t i = 0; i < labels_.items.size(); ++i)
                if ((s.num >> i) & 1 && s.off < static_cast<int32_t>(labels_.items[i].size())) out.push_back(labels_.items[i][s.off]);
        if (s.ph == 6) {
            const U32 & l = labels_.items[s.lstack[s.mask - 1]];
            if (s.off < static_cast<int32_t>(l.size())) out.push_back(l[s.off]);
        }
    }

private:
    static constexpr char kPrefix[] = "Answer: ";
    // mask = depth; stack[d] = start of the d-th open entity; lstack[d] = its label; n = entities opened
    bool CanOpen(const MState & s) const { return startOk_[s.pos] && s.mask < maxDepth_ && s.n < cap_ && s.pos < lastClose_; }
    bool CanClose(const MState & s) const { return s.mask > 0 && endOk_[s.pos] && s.stack[s.mask - 1] < s.pos; }
    void Open(MState & s, int32_t label) const {
        s.stack[s.mask] = s.pos;
        s.lstack[s.mask] = label;
        ++s.mask;
        ++s.n;
        s.ph = 1;
    }
    bool StepOpenLabel(MState & s, uint32_t c) const {
        int32_t nm = 0;
        for (size_t i = 0; i < labels_.items.size(); ++i) {
            const U32 & l = labels_.items[i];
            if ((s.num >> i) & 1 && s.off < static_cast<int32_t>(l.size()) && l[s.off] == c) nm |= 1 << i;
        }
        if (nm) { s.num = nm; ++s.off; return true; }
        if (c != '>') return false;
        for (size_t i = 0; i < labels_.items.size(); ++i) {
            if ((s.num >> i) & 1 && static_cast<int32_t>(labels_.items[i].size()) == s.off) {
                s.num = 0;
                s.off = 0;
                Open(s, static_cast<int32_t>(i));
                return true;
            }
        }
        return false;
    }

    bool multi_;
    U32 text_;
    Labels labels_;
    std::vector<uint8_t> startOk_, endOk_, markupAt_;
    int32_t maxDepth_, cap_, lastClose_;
};

}  // namespace ner
}  // namespace mfner
