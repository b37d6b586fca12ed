import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/** Where webhooks may go: public addresses over HTTPS, plus what the operator allows. */
export interface UrlPolicy {
  allowHttp: boolean;
  /** CIDR ranges allowed although private (an agency's intranet; 127.0.0.0/8 in tests). */
  allowedCidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export function parseCidrs(value: string): UrlPolicy['allowedCidrs'] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((cidr) => ipaddr.parseCIDR(cidr));
}

/** Loopback, private, link-local and other non-public ranges are refused unless allowed. */
export function addressAllowed(address: string, policy: UrlPolicy): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (policy.allowedCidrs.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits))) return true;
  return ip.range() === 'unicast';
}

const lookupAll = promisify(dnsLookup);

/** Why a URL may not receive webhooks, or null when it may. Resolves the host to check it. */
export async function urlProblem(raw: string, policy: UrlPolicy): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return policy.allowHttp ? 'must be an http or https URL' : 'must be an https URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  try {
    addresses = ipaddr.isValid(host)
      ? [{ address: host, family: host.includes(':') ? 6 : 4 }]
      : await lookupAll(host, { all: true });
  } catch {
    return `host ${host} cannot be resolved`;
  }
  const refused = addresses.find((a) => !addressAllowed(a.address, policy));
  return refused ? `resolves to ${refused.address}, a private or reserved address` : null;
}

/**
 * An HTTP agent that checks every address it connects to, so a host that resolves to a public
 * address when the subscription is made and to an internal one later (DNS rebinding) is refused.
 */
export function guardedAgent(policy: UrlPolicy, connections: number): Agent {
  return new Agent({
    connections,
    connect: {
      lookup(hostname, options, callback) {
        dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err, '', 0);
          const list = addresses as LookupAddress[];
          const bad = list.find((a) => !addressAllowed(a.address, policy));
          if (bad) return callback(new Error(`refusing to connect to ${bad.address}`), '', 0);
          if ((options as { all?: boolean }).all)
            return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
          return callback(null, list[0]!.address, list[0]!.family);
        });
      },
    },
  });
}
