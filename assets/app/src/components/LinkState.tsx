import { fingerprintLines, linkLook, linkStateLabel } from '../links';

/** A link's state: a coloured dot and its name. */
export function LinkStateTag({ state }: { state: string }) {
  return (
    <span class={`link-state link-state-${linkLook(state)}`}>
      <span class="link-dot" aria-hidden="true" />
      {linkStateLabel(state)}
    </span>
  );
}

/** A fingerprint in lines of eight bytes, as both sites show it. */
export function Fingerprint({ value }: { value: string }) {
  return (
    <span class="fingerprint mono">
      {fingerprintLines(value).map((line, i) => (
        <span key={i} class="fingerprint-line">
          {line}
        </span>
      ))}
    </span>
  );
}
