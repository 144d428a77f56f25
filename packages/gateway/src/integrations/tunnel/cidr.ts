// IPv4 and CIDR parsing is shared with the `tunnel:` schema in the browser-safe contract.
export { allowed, cidrContains, ipv4Of, parseCidr, parseIpv4, type Cidr } from '@openbms/contract';
