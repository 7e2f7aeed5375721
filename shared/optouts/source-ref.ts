import { isIP } from 'node:net';
import { pseudonym } from '../domain/pseudonym.js';
import { unmapped } from './source-allow-list.js';

/*
 * A webhook source address is personal data: it is never stored or logged as such. The rate
 * counter is keyed by a hash (like emailRef for emails), the log shows only the network (/24 or
 * /48), which is what an operator compares with Marketo's published egress ranges.
 *
 * An IPv6 sender controls at least a /64 (one subnet), so a per-address limit would be evaded by
 * rotating addresses: IPv6 sources are counted per /64.
 */

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad folded in). */
function ipv6Groups(ip: string): number[] {
  let text = ip.split('%')[0] ?? '';
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

const hex = (groups: number[]) => groups.map((g) => g.toString(16)).join(':');

/** The unit a source is counted by: the IPv4 address, or the IPv6 /64; `unknown` without an address. */
function sourceUnit(sourceIp: string | undefined): string {
  const ip = unmapped(sourceIp?.trim() ?? '');
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family === 6) return `${hex(ipv6Groups(ip).slice(0, 4))}::/64`;
  return 'unknown';
}

/** A stable, non-reversible key for a source's rate counter (never the address). */
export function sourceRef(sourceIp: string | undefined): string {
  return pseudonym('source', sourceUnit(sourceIp));
}

/** The source's network for logs: IPv4 /24 (`192.0.2.0/24`), IPv6 /48; `unknown` without an address. */
export function maskedSource(sourceIp: string | undefined): string {
  const ip = unmapped(sourceIp?.trim() ?? '');
  const family = isIP(ip);
  if (family === 4) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  if (family === 6) return `${hex(ipv6Groups(ip).slice(0, 3))}::/48`;
  return 'unknown';
}
