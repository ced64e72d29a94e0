// The Diameter names Tollgate knows: command codes, application ids, the base protocol's
// Result-Codes, and a small dictionary of AVPs (RFC 6733 base, RFC 4006/8506 credit control, the
// 3GPP TS 32.299 AVPs an IMS charging client such as Kamailio's ims_charging sends). The codec
// reads grouped AVPs by this table and refuses a mandatory AVP it does not list (5001).

/** How an AVP's data is read: fixed-size types are checked for their length. */
export type AvpType =
  | 'OctetString'
  | 'UTF8String'
  | 'DiameterIdentity'
  | 'Unsigned32'
  | 'Unsigned64'
  | 'Integer32'
  | 'Integer64'
  | 'Enumerated'
  | 'Time'
  | 'Address'
  | 'Grouped'
  /** Grouped, but holds AVPs of other messages (Failed-AVP): never checked, read as bytes. */
  | 'Opaque';

export interface AvpDefinition {
  readonly name: string;
  readonly code: number;
  /** 0: an IETF AVP with no Vendor-Id field. */
  readonly vendorId: number;
  readonly type: AvpType;
  /** Whether Tollgate sets the M flag when it sends this AVP. */
  readonly mandatory: boolean;
}

/** 3GPP's IANA enterprise number, the Vendor-Id of TS 32.299 AVPs. */
export const vendor3gpp = 10415;

/** Diameter application ids. */
export const applicationIds = {
  common: 0,
  creditControl: 4,
  relay: 0xffff_ffff,
} as const;

/** Command codes, for requests (R flag) and their answers alike. */
export const commandCodes = {
  capabilitiesExchange: 257,
  reAuth: 258,
  creditControl: 272,
  abortSession: 274,
  sessionTermination: 275,
  deviceWatchdog: 280,
  disconnectPeer: 282,
} as const;

/** RFC 6733 Result-Codes of the base protocol (RFC 4006's are in core/charging/switch-answers.ts). */
export const baseResultCodes = {
  success: 2001,
  commandUnsupported: 3001,
  tooBusy: 3004,
  applicationUnsupported: 3007,
  invalidHeaderBits: 3008,
  invalidAvpBits: 3009,
  unknownPeer: 3010,
  avpUnsupported: 5001,
  unknownSessionId: 5002,
  invalidAvpValue: 5004,
  missingAvp: 5005,
  noCommonApplication: 5010,
  unsupportedVersion: 5011,
  unableToComply: 5012,
  invalidAvpLength: 5014,
  invalidMessageLength: 5015,
} as const;

/** RFC 4006 CC-Request-Type values. */
export const ccRequestTypes = { initial: 1, update: 2, termination: 3, event: 4 } as const;

/** RFC 4006 Subscription-Id-Type values. */
export const subscriptionIdTypes = {
  e164: 0,
  imsi: 1,
  sipUri: 2,
  nai: 3,
  private: 4,
} as const;

/** RFC 4006 Requested-Action values (EVENT requests). */
export const requestedActions = {
  directDebiting: 0,
  refundAccount: 1,
  checkBalance: 2,
  priceEnquiry: 3,
} as const;

const definitions: ReadonlyArray<[string, number, number, AvpType, boolean]> = [
  // RFC 6733 base protocol (and the NASREQ/RADIUS AVPs it reuses).
  ['User-Name', 1, 0, 'UTF8String', true],
  ['Class', 25, 0, 'OctetString', true],
  ['Session-Timeout', 27, 0, 'Unsigned32', true],
  ['Called-Station-Id', 30, 0, 'UTF8String', true],
  ['Calling-Station-Id', 31, 0, 'UTF8String', true],
  ['Proxy-State', 33, 0, 'OctetString', true],
  ['Acct-Session-Id', 44, 0, 'OctetString', true],
  ['Acct-Multi-Session-Id', 50, 0, 'UTF8String', true],
  ['Event-Timestamp', 55, 0, 'Time', true],
  ['Acct-Interim-Interval', 85, 0, 'Unsigned32', true],
  ['Host-IP-Address', 257, 0, 'Address', true],
  ['Auth-Application-Id', 258, 0, 'Unsigned32', true],
  ['Acct-Application-Id', 259, 0, 'Unsigned32', true],
  ['Vendor-Specific-Application-Id', 260, 0, 'Grouped', true],
  ['Redirect-Host-Usage', 261, 0, 'Enumerated', true],
  ['Redirect-Max-Cache-Time', 262, 0, 'Unsigned32', true],
  ['Session-Id', 263, 0, 'UTF8String', true],
  ['Origin-Host', 264, 0, 'DiameterIdentity', true],
  ['Supported-Vendor-Id', 265, 0, 'Unsigned32', true],
  ['Vendor-Id', 266, 0, 'Unsigned32', true],
  ['Firmware-Revision', 267, 0, 'Unsigned32', false],
  ['Result-Code', 268, 0, 'Unsigned32', true],
  ['Product-Name', 269, 0, 'UTF8String', false],
  ['Session-Binding', 270, 0, 'Unsigned32', true],
  ['Session-Server-Failover', 271, 0, 'Enumerated', true],
  ['Multi-Round-Time-Out', 272, 0, 'Unsigned32', true],
  ['Disconnect-Cause', 273, 0, 'Enumerated', true],
  ['Auth-Request-Type', 274, 0, 'Enumerated', true],
  ['Auth-Grace-Period', 276, 0, 'Unsigned32', true],
  ['Auth-Session-State', 277, 0, 'Enumerated', true],
  ['Origin-State-Id', 278, 0, 'Unsigned32', true],
  ['Failed-AVP', 279, 0, 'Opaque', true],
  ['Proxy-Host', 280, 0, 'DiameterIdentity', true],
  ['Error-Message', 281, 0, 'UTF8String', false],
  ['Route-Record', 282, 0, 'DiameterIdentity', true],
  ['Destination-Realm', 283, 0, 'DiameterIdentity', true],
  ['Proxy-Info', 284, 0, 'Grouped', true],
  ['Re-Auth-Request-Type', 285, 0, 'Enumerated', true],
  ['Accounting-Sub-Session-Id', 287, 0, 'Unsigned64', true],
  ['Authorization-Lifetime', 291, 0, 'Unsigned32', true],
  ['Redirect-Host', 292, 0, 'OctetString', true],
  ['Destination-Host', 293, 0, 'DiameterIdentity', true],
  ['Error-Reporting-Host', 294, 0, 'DiameterIdentity', false],
  ['Termination-Cause', 295, 0, 'Enumerated', true],
  ['Origin-Realm', 296, 0, 'DiameterIdentity', true],
  ['Experimental-Result', 297, 0, 'Grouped', true],
  ['Experimental-Result-Code', 298, 0, 'Unsigned32', true],
  ['Inband-Security-Id', 299, 0, 'Unsigned32', true],
  ['Accounting-Record-Type', 480, 0, 'Enumerated', true],
  ['Accounting-Record-Number', 485, 0, 'Unsigned32', true],
  // RFC 4006 / RFC 8506 credit control.
  ['CC-Correlation-Id', 411, 0, 'OctetString', false],
  ['CC-Input-Octets', 412, 0, 'Unsigned64', true],
  ['CC-Money', 413, 0, 'Grouped', true],
  ['CC-Output-Octets', 414, 0, 'Unsigned64', true],
  ['CC-Request-Number', 415, 0, 'Unsigned32', true],
  ['CC-Request-Type', 416, 0, 'Enumerated', true],
  ['CC-Service-Specific-Units', 417, 0, 'Unsigned64', true],
  ['CC-Session-Failover', 418, 0, 'Enumerated', true],
  ['CC-Sub-Session-Id', 419, 0, 'Unsigned64', true],
  ['CC-Time', 420, 0, 'Unsigned32', true],
  ['CC-Total-Octets', 421, 0, 'Unsigned64', true],
  ['Check-Balance-Result', 422, 0, 'Enumerated', true],
  ['Cost-Information', 423, 0, 'Grouped', true],
  ['Cost-Unit', 424, 0, 'UTF8String', true],
  ['Currency-Code', 425, 0, 'Unsigned32', true],
  ['Credit-Control', 426, 0, 'Enumerated', true],
  ['Credit-Control-Failure-Handling', 427, 0, 'Enumerated', true],
  ['Direct-Debiting-Failure-Handling', 428, 0, 'Enumerated', true],
  ['Exponent', 429, 0, 'Integer32', true],
  ['Final-Unit-Indication', 430, 0, 'Grouped', true],
  ['Granted-Service-Unit', 431, 0, 'Grouped', true],
  ['Rating-Group', 432, 0, 'Unsigned32', true],
  ['Redirect-Address-Type', 433, 0, 'Enumerated', true],
  ['Redirect-Server', 434, 0, 'Grouped', true],
  ['Redirect-Server-Address', 435, 0, 'UTF8String', true],
  ['Requested-Action', 436, 0, 'Enumerated', true],
  ['Requested-Service-Unit', 437, 0, 'Grouped', true],
  ['Restriction-Filter-Rule', 438, 0, 'OctetString', true],
  ['Service-Identifier', 439, 0, 'Unsigned32', true],
  ['Service-Parameter-Info', 440, 0, 'Grouped', false],
  ['Service-Parameter-Type', 441, 0, 'Unsigned32', false],
  ['Service-Parameter-Value', 442, 0, 'OctetString', false],
  ['Subscription-Id', 443, 0, 'Grouped', true],
  ['Subscription-Id-Data', 444, 0, 'UTF8String', true],
  ['Unit-Value', 445, 0, 'Grouped', true],
  ['Used-Service-Unit', 446, 0, 'Grouped', true],
  ['Value-Digits', 447, 0, 'Integer64', true],
  ['Validity-Time', 448, 0, 'Unsigned32', true],
  ['Final-Unit-Action', 449, 0, 'Enumerated', true],
  ['Subscription-Id-Type', 450, 0, 'Enumerated', true],
  ['Tariff-Time-Change', 451, 0, 'Time', true],
  ['Tariff-Change-Usage', 452, 0, 'Enumerated', true],
  ['G-S-U-Pool-Identifier', 453, 0, 'Unsigned32', true],
  ['CC-Unit-Type', 454, 0, 'Enumerated', true],
  ['Multiple-Services-Indicator', 455, 0, 'Enumerated', true],
  ['Multiple-Services-Credit-Control', 456, 0, 'Grouped', true],
  ['G-S-U-Pool-Reference', 457, 0, 'Grouped', true],
  ['User-Equipment-Info', 458, 0, 'Grouped', false],
  ['User-Equipment-Info-Type', 459, 0, 'Enumerated', false],
  ['User-Equipment-Info-Value', 460, 0, 'OctetString', false],
  ['Service-Context-Id', 461, 0, 'UTF8String', true],
  // 3GPP TS 32.299 (Ro/Gy) AVPs that IMS charging clients send.
  ['Event-Type', 823, vendor3gpp, 'Grouped', true],
  ['SIP-Method', 824, vendor3gpp, 'UTF8String', true],
  ['Event', 825, vendor3gpp, 'UTF8String', true],
  ['Content-Type', 826, vendor3gpp, 'UTF8String', true],
  ['Content-Length', 827, vendor3gpp, 'Unsigned32', true],
  ['Role-Of-Node', 829, vendor3gpp, 'Enumerated', true],
  ['User-Session-Id', 830, vendor3gpp, 'UTF8String', true],
  ['Calling-Party-Address', 831, vendor3gpp, 'UTF8String', true],
  ['Called-Party-Address', 832, vendor3gpp, 'UTF8String', true],
  ['Time-Stamps', 833, vendor3gpp, 'Grouped', true],
  ['SIP-Request-Timestamp', 834, vendor3gpp, 'Time', true],
  ['SIP-Response-Timestamp', 835, vendor3gpp, 'Time', true],
  ['Application-Server', 836, vendor3gpp, 'UTF8String', true],
  ['Inter-Operator-Identifier', 838, vendor3gpp, 'Grouped', true],
  ['Originating-IOI', 839, vendor3gpp, 'UTF8String', true],
  ['Terminating-IOI', 840, vendor3gpp, 'UTF8String', true],
  ['IMS-Charging-Identifier', 841, vendor3gpp, 'UTF8String', true],
  ['SDP-Session-Description', 842, vendor3gpp, 'UTF8String', true],
  ['SDP-Media-Component', 843, vendor3gpp, 'Grouped', true],
  ['SDP-Media-Name', 844, vendor3gpp, 'UTF8String', true],
  ['SDP-Media-Description', 845, vendor3gpp, 'UTF8String', true],
  ['Application-Server-Information', 850, vendor3gpp, 'Grouped', true],
  ['Cause-Code', 861, vendor3gpp, 'Integer32', true],
  ['Node-Functionality', 862, vendor3gpp, 'Enumerated', true],
  ['Service-Specific-Data', 863, vendor3gpp, 'UTF8String', true],
  ['Reporting-Reason', 872, vendor3gpp, 'Enumerated', true],
  ['Service-Information', 873, vendor3gpp, 'Grouped', true],
  ['PS-Information', 874, vendor3gpp, 'Grouped', true],
  ['IMS-Information', 876, vendor3gpp, 'Grouped', true],
  ['Media-Initiator-Flag', 882, vendor3gpp, 'Enumerated', true],
  ['Expires', 888, vendor3gpp, 'Unsigned32', true],
  ['Service-Specific-Info', 1249, vendor3gpp, 'Grouped', true],
  ['Called-Asserted-Identity', 1250, vendor3gpp, 'UTF8String', true],
  ['Requested-Party-Address', 1251, vendor3gpp, 'UTF8String', true],
  ['Service-Specific-Type', 1257, vendor3gpp, 'Unsigned32', true],
  ['Access-Network-Information', 1263, vendor3gpp, 'OctetString', true],
  ['Outgoing-Session-Id', 2320, vendor3gpp, 'UTF8String', true],
  ['From-Address', 2708, vendor3gpp, 'UTF8String', true],
];

/** The dictionary key of an AVP: its code, or vendor and code. */
export function avpKey(code: number, vendorId: number): number {
  // Codes are 32-bit and vendor ids too: the pair fits a double exactly.
  return vendorId * 0x1_0000_0000 + code;
}

const byKey = new Map<number, AvpDefinition>();
const byName = new Map<string, AvpDefinition>();
for (const [name, code, vendorId, type, mandatory] of definitions) {
  const definition: AvpDefinition = { name, code, vendorId, type, mandatory };
  byKey.set(avpKey(code, vendorId), definition);
  byName.set(name, definition);
}

/** The definition of an AVP Tollgate knows, or undefined. */
export function avpDefinition(code: number, vendorId: number): AvpDefinition | undefined {
  return byKey.get(avpKey(code, vendorId));
}

/** The definition of an AVP by its RFC name; throws for a name not in the dictionary (a bug). */
export function avpNamed(name: string): AvpDefinition {
  const found = byName.get(name);
  if (!found) throw new Error(`no AVP named ${name} in the dictionary`);
  return found;
}

/** Every AVP the dictionary holds, for the docs and tests. */
export function dictionaryAvps(): AvpDefinition[] {
  return [...byKey.values()];
}
