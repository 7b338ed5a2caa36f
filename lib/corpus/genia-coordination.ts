/**
 * Rebuilding the members of a coordinated GENIA term ("c-fos, c-jun and jun B proto-oncogenes",
 * `lex="(AND c-fos_proto-oncogene c-jun_proto-oncogene jun_B_proto-oncogene)"`) from its `*`
 * fragments (`c-fos*`, `c-jun*`, `jun_B*`, `*proto-oncogene`). A member is the first subsequence
 * of fragments, in text order, whose lexes concatenate to the member's lex (ignoring `_`, which
 * GENIA uses for spaces, and `*`). Members that no subsequence spells are reported, not guessed.
 */
import type { Span } from '../formats/entity.ts';

export interface Fragment {
  lex: string;
  span: Span;
}

/** GENIA writes a literal `*` in a name both escaped and bare, so all stars and escapes go. */
function squash(lex: string): string {
  return lex.replace(/[\\*_\s]/g, '');
}

/** Splits the member list of a coordination lex: `(AND a b c)` → [a, b, c]. */
export function coordinationMembers(lex: string): string[] | undefined {
  const m = /^\(\s*\S+\s+(.*)\)\s*$/s.exec(lex.trim());
  return m ? m[1].trim().split(/\s+/u) : undefined;
}

const MAX_FRAGMENTS = 12; // 2^12 subsequences at most; real coordinations have ≤ 8 fragments.

/** Spans of each member, or undefined for a member no fragment subsequence spells. */
export function resolveMembers(members: readonly string[], fragments: readonly Fragment[]): (Span[] | undefined)[] {
  const frags = [...fragments].sort((a, b) => a.span[0] - b.span[0]).slice(0, MAX_FRAGMENTS);
  const squashed = frags.map((f) => squash(f.lex));
  return members.map((member) => {
    const target = squash(member);
    const pick = (from: number, rest: string, chosen: number[]): number[] | undefined => {
      if (rest === '') return chosen.length > 0 ? chosen : undefined;
      for (let i = from; i < frags.length; i++) {
        const piece = squashed[i];
        if (piece !== '' && rest.startsWith(piece)) {
          const found = pick(i + 1, rest.slice(piece.length), [...chosen, i]);
          if (found) return found;
        }
      }
      return undefined;
    };
    const chosen = pick(0, target, []);
    return chosen?.map((i) => frags[i].span);
  });
}
