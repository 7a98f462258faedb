// The switch's DNS server: A records for <vm>.<lab>.internal from the static leases. It is
// authoritative for its zone only; other names get REFUSED so a guest's resolver moves on to its
// next server (the user-mode NIC's), instead of caching a false "no such name".
import dnsPacket from 'dns-packet';

export function answerDns(query: Buffer, zone: string, hosts: Map<string, string>): Buffer | null {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(query);
  } catch {
    return null;
  }
  if (q.type !== 'query' || !q.questions || q.questions.length !== 1) return null;
  // Only standard queries (opcode 0); NOTIFY, UPDATE and the like get no answer.
  if ((((q.flags ?? 0) >> 11) & 0xf) !== 0) return null;
  const question = q.questions[0]!;
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const suffix = `.${zone}`;
  const base = { type: 'response' as const, id: q.id ?? 0, questions: [question] };
  const RD = 1 << 8;
  const AA = 1 << 10;
  const rd = (q.flags ?? 0) & RD;
  if (!name.endsWith(suffix) && name !== zone) {
    return dnsPacket.encode({ ...base, flags: rd | 5 }); // REFUSED
  }
  // The zone itself exists (no data): NXDOMAIN there would deny every name below it (RFC 8020).
  if (name === zone) return dnsPacket.encode({ ...base, flags: rd | AA, answers: [] });
  const host = name.slice(0, -suffix.length);
  const ip = hosts.get(host);
  if (!ip) return dnsPacket.encode({ ...base, flags: rd | AA | 3 }); // NXDOMAIN
  const answers: dnsPacket.Answer[] =
    question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 30, class: 'IN', data: ip }] : [];
  return dnsPacket.encode({ ...base, flags: rd | AA, answers });
}
