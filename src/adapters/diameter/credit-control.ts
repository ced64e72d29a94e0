// RFC 4006/8506 credit control on the charging use cases: a CCR becomes authorize (EVENT),
// initiate (INITIAL), update (UPDATE) or terminate (TERMINATION), and the core's answer or refusal
// becomes the CCA. It only translates: grants, final units, charges and request-number replays
// are the core's; Result-Codes come from the one refusal table (core/charging/switch-answers.ts).
// A retransmitted CCR (same Session-Id and CC-Request-Number, often with the T flag) gets the
// first answer, from memory while it is recent or in flight, else from the core's request log.

import type { Charging, SubscriberRef } from '../../core/charging/charging.ts';
import type { CreditAnswer } from '../../core/charging/charging-types.ts';
import { resultCodes, switchAnswerOf } from '../../core/charging/switch-answers.ts';
import { type Currency, currencyScale, isCurrency } from '../../core/money/money.ts';
import type { Caller } from '../../core/shared/principal.ts';
import {
  applicationIds,
  avpNamed,
  baseResultCodes,
  ccRequestTypes,
  requestedActions,
  subscriptionIdTypes,
  vendor3gpp,
} from './avp-dictionary.ts';
import {
  type Avp,
  type AvpOut,
  avpOf,
  type DiameterMessage,
  findAvp,
  findAvps,
  findDeep,
  groupOf,
  textOf,
  u32Of,
} from './diameter-codec.ts';

/** The charging use cases a Diameter peer reaches: the same ones as the HTTP routes. */
export type ChargingPort = Pick<Charging, 'authorize' | 'initiate' | 'update' | 'terminate'>;

/** The AVPs this file reads and writes, by name (the dictionary's definitions). */
export const ccAvps = {
  sessionId: avpNamed('Session-Id'),
  resultCode: avpNamed('Result-Code'),
  errorMessage: avpNamed('Error-Message'),
  failedAvp: avpNamed('Failed-AVP'),
  originHost: avpNamed('Origin-Host'),
  originRealm: avpNamed('Origin-Realm'),
  authApplicationId: avpNamed('Auth-Application-Id'),
  ccRequestType: avpNamed('CC-Request-Type'),
  ccRequestNumber: avpNamed('CC-Request-Number'),
  subscriptionId: avpNamed('Subscription-Id'),
  subscriptionIdType: avpNamed('Subscription-Id-Type'),
  subscriptionIdData: avpNamed('Subscription-Id-Data'),
  requestedServiceUnit: avpNamed('Requested-Service-Unit'),
  grantedServiceUnit: avpNamed('Granted-Service-Unit'),
  usedServiceUnit: avpNamed('Used-Service-Unit'),
  ccTime: avpNamed('CC-Time'),
  ccMoney: avpNamed('CC-Money'),
  unitValue: avpNamed('Unit-Value'),
  valueDigits: avpNamed('Value-Digits'),
  exponent: avpNamed('Exponent'),
  currencyCode: avpNamed('Currency-Code'),
  costInformation: avpNamed('Cost-Information'),
  mscc: avpNamed('Multiple-Services-Credit-Control'),
  ratingGroup: avpNamed('Rating-Group'),
  serviceIdentifier: avpNamed('Service-Identifier'),
  validityTime: avpNamed('Validity-Time'),
  finalUnitIndication: avpNamed('Final-Unit-Indication'),
  finalUnitAction: avpNamed('Final-Unit-Action'),
  requestedAction: avpNamed('Requested-Action'),
  checkBalanceResult: avpNamed('Check-Balance-Result'),
  terminationCause: avpNamed('Termination-Cause'),
  callingPartyAddress: avpNamed('Calling-Party-Address'),
} as const;

/** Final-Unit-Action TERMINATE: the client ends the service when the last grant is used. */
const finalUnitTerminate = 0;
const checkBalanceEnough = 0;
const checkBalanceNoCredit = 1;

/** ISO 4217 numeric codes (Currency-Code) of the currencies Tollgate most often charges. */
const currencyNumbers: Readonly<Partial<Record<string, number>>> = {
  USD: 840,
  EUR: 978,
  GBP: 826,
  KRW: 410,
  JPY: 392,
  CAD: 124,
  AUD: 36,
  CHF: 756,
  INR: 356,
  BRL: 986,
  MXN: 484,
  ZAR: 710,
  NGN: 566,
  KES: 404,
  PHP: 608,
};

/** What Termination-Cause values are called in the CDR. */
const terminationReasons: Readonly<Record<number, string>> = {
  1: 'normal',
  2: 'service_not_provided',
  3: 'bad_answer',
  4: 'administrative',
  5: 'link_broken',
  6: 'auth_expired',
  7: 'user_moved',
  8: 'session_timeout',
};

/** An AVP named by its code and Vendor-Id, as configuration gives it (`10415:832`, `30`). */
export interface AvpKey {
  readonly code: number;
  readonly vendorId: number;
}

export interface CreditControlSettings {
  /** Subscription-Id-Types whose data is a calling-card PIN (default END_USER_PRIVATE, 4). */
  readonly pinSubscriptionTypes: readonly number[];
  /** Where the dialled number is read, first found wins (default Called-Party-Address, Called-Station-Id). */
  readonly destinationAvps: readonly AvpKey[];
  /**
   * Rating-Groups Tollgate does not credit-control: answered 4011 (CREDIT_CONTROL_NOT_APPLICABLE),
   * so the client lets them through unmetered (emergency calls, zero-rated services). Default none.
   */
  readonly freeRatingGroups: readonly number[];
  /** Recent answers kept for retransmissions, over all peers. */
  readonly answersKeptMax: number;
}

export const creditControlSettingsDefaults: CreditControlSettings = {
  pinSubscriptionTypes: [subscriptionIdTypes.private],
  destinationAvps: [
    { code: 832, vendorId: vendor3gpp },
    { code: 30, vendorId: 0 },
  ],
  freeRatingGroups: [],
  answersKeptMax: 20_000,
};

/** The peer a CCR came from, as the base protocol identified it at CER. */
export interface PeerIdentity {
  readonly originHost: string;
  readonly caller: Caller;
}

/** The answer's AVPs after Session-Id, Result-Code, Origin-Host and Origin-Realm. */
export interface CcAnswer {
  readonly resultCode: number;
  readonly avps: readonly AvpOut[];
  readonly errorMessage?: string | undefined;
  readonly failedAvp?: AvpOut | undefined;
}

/** The URL scheme of disconnects that go to a Diameter peer as an ASR. */
export const diameterCallbackScheme = 'diameter:';

/** The callback URL of a session opened by the peer `originHost`. */
export function diameterCallbackUrl(originHost: string, sessionId: string): string {
  return `${diameterCallbackScheme}${encodeURIComponent(originHost)}/${encodeURIComponent(sessionId)}`;
}

/** The peer and session a `diameter:` URL names, or null when it is not one. */
export function parseDiameterCallbackUrl(
  url: string,
): { originHost: string; sessionId: string } | null {
  if (!url.startsWith(diameterCallbackScheme)) return null;
  const rest = url.slice(diameterCallbackScheme.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  try {
    return {
      originHost: decodeURIComponent(rest.slice(0, slash)),
      sessionId: decodeURIComponent(rest.slice(slash + 1)),
    };
  } catch {
    return null;
  }
}

const sessionIdPattern = /^[\x21-\x7e]{1,512}$/;
const numberPattern = /^\+?[0-9]{1,32}$/;

interface ServiceControl {
  readonly mscc: Avp | undefined;
  readonly ratingGroup: number | undefined;
  readonly serviceIdentifier: number | undefined;
  readonly usedSeconds: number;
}

export class CreditControl {
  private readonly charging: ChargingPort;
  private readonly settings: CreditControlSettings;
  /** Answers by peer principal, Session-Id and CC-Request-Number: in flight, then recent. */
  private readonly answers = new Map<string, Promise<CcAnswer>>();
  /** Each session's requests run in arrival order, so request numbers never race. */
  private readonly sessionTails = new Map<string, Promise<unknown>>();

  constructor(options: { charging: ChargingPort; settings?: Partial<CreditControlSettings> }) {
    this.charging = options.charging;
    this.settings = { ...creditControlSettingsDefaults, ...options.settings };
  }

  /** Sessions with a request being answered now. */
  get sessionsBusy(): number {
    return this.sessionTails.size;
  }

  /** Answers one CCR; a repeat of a recent or unanswered request shares the first answer. */
  answer(peer: PeerIdentity, request: DiameterMessage): Promise<CcAnswer> {
    const sessionId = textOf(findAvp(request.avps, ccAvps.sessionId));
    const requestNumber = u32Of(findAvp(request.avps, ccAvps.ccRequestNumber));
    if (sessionId === undefined || requestNumber === undefined) {
      return Promise.resolve(this.serve(peer, request));
    }
    const sessionKey = `${peer.caller.principal.id}\n${sessionId}`;
    const key = `${sessionKey}\n${requestNumber}`;
    const known = this.answers.get(key);
    if (known) return known;
    const previous = this.sessionTails.get(sessionKey);
    const answer = previous
      ? previous.then(() => this.serve(peer, request))
      : this.serve(peer, request);
    this.sessionTails.set(sessionKey, answer);
    void answer.then(
      () => this.settle(sessionKey, answer),
      () => this.settle(sessionKey, answer),
    );
    this.remember(key, answer);
    return answer;
  }

  private settle(sessionKey: string, answer: Promise<CcAnswer>): void {
    if (this.sessionTails.get(sessionKey) === answer) this.sessionTails.delete(sessionKey);
  }

  private remember(key: string, answer: Promise<CcAnswer>): void {
    this.answers.set(key, answer);
    // A fault is not an answer to keep: the retransmission tries again.
    answer.catch(() => this.answers.delete(key));
    if (this.answers.size > this.settings.answersKeptMax) {
      const oldest = this.answers.keys().next().value;
      if (oldest !== undefined) this.answers.delete(oldest);
    }
  }

  private async serve(peer: PeerIdentity, request: DiameterMessage): Promise<CcAnswer> {
    const avps = request.avps;
    const sessionAvp = findAvp(avps, ccAvps.sessionId);
    const typeAvp = findAvp(avps, ccAvps.ccRequestType);
    const numberAvp = findAvp(avps, ccAvps.ccRequestNumber);
    const requestType = u32Of(typeAvp);
    const requestNumber = u32Of(numberAvp);
    const echo: AvpOut[] = [avpOf(ccAvps.authApplicationId, applicationIds.creditControl)];
    if (typeAvp) echo.push(typeAvp);
    if (numberAvp) echo.push(numberAvp);
    const missing = [
      [sessionAvp, ccAvps.sessionId],
      [typeAvp, ccAvps.ccRequestType],
      [numberAvp, ccAvps.ccRequestNumber],
    ].find(([avp]) => avp === undefined);
    if (missing) {
      const definition = missing[1] as typeof ccAvps.sessionId;
      return {
        resultCode: baseResultCodes.missingAvp,
        avps: echo,
        errorMessage: `${definition.name} is missing`,
        failedAvp: avpOf(definition, Buffer.alloc(0)),
      };
    }
    const sessionId = textOf(sessionAvp)!;
    if (!sessionIdPattern.test(sessionId)) {
      return invalid(echo, sessionAvp!, 'Session-Id must be 1-512 printable ASCII characters');
    }
    const service = this.serviceOf(avps);
    if (
      service.ratingGroup !== undefined &&
      this.settings.freeRatingGroups.includes(service.ratingGroup)
    ) {
      return {
        resultCode: resultCodes.creditControlNotApplicable,
        avps: [...echo, ...msccResult(service, resultCodes.creditControlNotApplicable)],
      };
    }
    const number = requestNumber!;
    switch (requestType) {
      case ccRequestTypes.initial:
        return this.initial(peer, sessionId, number, avps, service, echo);
      case ccRequestTypes.update: {
        const result = await this.charging.update(peer.caller, {
          sessionId,
          requestNumber: number,
          usedSeconds: service.usedSeconds,
        });
        return result.ok
          ? granted(result.value, service, echo)
          : refused(result.code, result.message, service, echo);
      }
      case ccRequestTypes.termination: {
        const cause = u32Of(findAvp(avps, ccAvps.terminationCause));
        const result = await this.charging.terminate(peer.caller, {
          sessionId,
          requestNumber: number,
          usedSeconds: service.usedSeconds,
          reason: (cause === undefined ? undefined : terminationReasons[cause]) ?? 'normal',
        });
        if (!result.ok) return refused(result.code, result.message, service, echo);
        return { resultCode: resultCodes.success, avps: [...echo, ...costOf(result.value)] };
      }
      case ccRequestTypes.event:
        return this.event(peer, avps, service, echo);
      default:
        return invalid(echo, typeAvp!, 'CC-Request-Type must be 1 to 4');
    }
  }

  private async initial(
    peer: PeerIdentity,
    sessionId: string,
    requestNumber: number,
    avps: readonly Avp[],
    service: ServiceControl,
    echo: AvpOut[],
  ): Promise<CcAnswer> {
    const call = this.callOf(avps, echo);
    if ('resultCode' in call) return call;
    const result = await this.charging.initiate(peer.caller, {
      sessionId,
      requestNumber,
      subscriber: call.subscriber,
      callerNumber: call.callerNumber,
      calledNumber: call.calledNumber,
      source: `diameter:${peer.originHost}`,
      callbackUrl: diameterCallbackUrl(peer.originHost, sessionId),
      callbackFromAdapter: true,
    });
    return result.ok
      ? granted(result.value, service, echo)
      : refused(result.code, result.message, service, echo);
  }

  /** EVENT: authorize only (nothing is reserved or debited); CHECK_BALANCE says yes or no. */
  private async event(
    peer: PeerIdentity,
    avps: readonly Avp[],
    service: ServiceControl,
    echo: AvpOut[],
  ): Promise<CcAnswer> {
    const call = this.callOf(avps, echo);
    if ('resultCode' in call) return call;
    const action = u32Of(findAvp(avps, ccAvps.requestedAction)) ?? requestedActions.directDebiting;
    if (action === requestedActions.refundAccount) {
      return invalid(echo, findAvp(avps, ccAvps.requestedAction)!, 'refunds are not served');
    }
    const result = await this.charging.authorize(peer.caller, {
      subscriber: call.subscriber,
      callerNumber: call.callerNumber,
      calledNumber: call.calledNumber,
      source: `diameter:${peer.originHost}`,
    });
    if (action === requestedActions.checkBalance) {
      if (!result.ok && result.code !== 'insufficient_balance') {
        return refused(result.code, result.message, service, echo);
      }
      const enough = result.ok ? checkBalanceEnough : checkBalanceNoCredit;
      return {
        resultCode: resultCodes.success,
        avps: [...echo, avpOf(ccAvps.checkBalanceResult, enough)],
      };
    }
    if (!result.ok) return refused(result.code, result.message, service, echo);
    const grant = [avpOf(ccAvps.ccTime, result.value.maxSeconds)];
    return {
      resultCode: resultCodes.success,
      avps: [...echo, avpOf(ccAvps.grantedServiceUnit, grant)],
    };
  }

  /** Who pays and which number: from Subscription-Id and the destination AVPs. */
  private callOf(
    avps: readonly Avp[],
    echo: AvpOut[],
  ):
    | { subscriber: SubscriberRef; callerNumber: string | undefined; calledNumber: string }
    | CcAnswer {
    let pin: string | undefined;
    let ani: string | undefined;
    for (const subscription of findAvps(avps, ccAvps.subscriptionId)) {
      const group = groupOf(subscription);
      const type = u32Of(findAvp(group, ccAvps.subscriptionIdType));
      const data = textOf(findAvp(group, ccAvps.subscriptionIdData));
      if (type === undefined || data === undefined) continue;
      if (this.settings.pinSubscriptionTypes.includes(type)) pin ??= data;
      else if (type === subscriptionIdTypes.e164) ani ??= numberOf(data);
      else if (type === subscriptionIdTypes.sipUri) ani ??= numberOf(data);
    }
    ani ??= numberOf(textOf(findDeep(avps, ccAvps.callingPartyAddress)) ?? '');
    if (ani !== undefined && !numberPattern.test(ani)) ani = undefined;
    if (pin === undefined && ani === undefined) {
      return {
        resultCode: baseResultCodes.missingAvp,
        avps: echo,
        errorMessage: 'no Subscription-Id names the subscriber (E.164 number or PIN)',
        failedAvp: avpOf(ccAvps.subscriptionId, []),
      };
    }
    let destination: Avp | undefined;
    for (const key of this.settings.destinationAvps) {
      destination = findDeep(avps, key);
      if (destination) break;
    }
    if (destination === undefined) {
      const first = this.settings.destinationAvps[0];
      return {
        resultCode: baseResultCodes.missingAvp,
        avps: echo,
        errorMessage: 'no AVP names the dialled number (Called-Party-Address)',
        ...(first
          ? {
              failedAvp: {
                code: first.code,
                vendorId: first.vendorId,
                mandatory: true,
                data: Buffer.alloc(0),
              },
            }
          : {}),
      };
    }
    const calledNumber = numberOf(textOf(destination) ?? '', { keepPlus: true });
    if (calledNumber === undefined || !numberPattern.test(calledNumber)) {
      const answer = switchAnswerOf('number_malformed');
      return {
        resultCode: answer?.resultCode ?? baseResultCodes.invalidAvpValue,
        avps: echo,
        errorMessage: 'the dialled number is not 1 to 32 digits',
        failedAvp: destination,
      };
    }
    return {
      subscriber: pin === undefined ? { ani: ani! } : { pin },
      callerNumber: ani,
      calledNumber,
    };
  }

  /** The service the request is about: its first MSCC (one rating group), or the top level. */
  private serviceOf(avps: readonly Avp[]): ServiceControl {
    const mscc = findAvp(avps, ccAvps.mscc);
    const scope = mscc ? groupOf(mscc) : avps;
    let usedSeconds = 0;
    for (const used of findAvps(scope, ccAvps.usedServiceUnit)) {
      usedSeconds += u32Of(findAvp(groupOf(used), ccAvps.ccTime)) ?? 0;
    }
    return {
      mscc,
      ratingGroup: mscc ? u32Of(findAvp(scope, ccAvps.ratingGroup)) : undefined,
      serviceIdentifier: mscc ? u32Of(findAvp(scope, ccAvps.serviceIdentifier)) : undefined,
      usedSeconds,
    };
  }
}

/** A number from E.164 digits, a `tel:` URI or a `sip:` URI's user part; undefined if none. */
function numberOf(text: string, options: { keepPlus?: boolean } = {}): string | undefined {
  let value = text.trim();
  const uri = /^(?:sips?|tel):([^@;?]+)/i.exec(value);
  if (uri) value = uri[1]!;
  value = value.replace(/[-. ()]/g, '');
  if (!options.keepPlus && value.startsWith('+')) value = value.slice(1);
  return value === '' ? undefined : value;
}

function invalid(echo: AvpOut[], avp: AvpOut, text: string): CcAnswer {
  return {
    resultCode: baseResultCodes.invalidAvpValue,
    avps: echo,
    errorMessage: text,
    failedAvp: {
      code: avp.code,
      vendorId: avp.vendorId,
      mandatory: avp.mandatory,
      data: avp.data ?? Buffer.alloc(0),
    },
  };
}

/** The Rating-Group and Service-Identifier echoed in an answer's MSCC, with its Result-Code. */
function msccResult(service: ServiceControl, resultCode: number, inner: AvpOut[] = []): AvpOut[] {
  if (!service.mscc) return [];
  const children: AvpOut[] = [...inner];
  if (service.ratingGroup !== undefined) {
    children.push(avpOf(ccAvps.ratingGroup, service.ratingGroup));
  }
  if (service.serviceIdentifier !== undefined) {
    children.push(avpOf(ccAvps.serviceIdentifier, service.serviceIdentifier));
  }
  children.push(avpOf(ccAvps.resultCode, resultCode));
  return [avpOf(ccAvps.mscc, children)];
}

/**
 * A grant: Granted-Service-Unit (CC-Time), Validity-Time (always: Kamailio's ims_charging ends
 * the call about a second after the answer without it), Final-Unit-Indication TERMINATE on the
 * last grant; inside the MSCC when the request had one, and Validity-Time at the top level too.
 * No seconds left: 4012 (CREDIT_LIMIT_REACHED), the client ends the service.
 */
function granted(answer: CreditAnswer, service: ServiceControl, echo: AvpOut[]): CcAnswer {
  if (answer.grantedSeconds === 0) {
    const code = resultCodes.creditLimitReached;
    const finalUnit = [
      avpOf(ccAvps.finalUnitIndication, [avpOf(ccAvps.finalUnitAction, finalUnitTerminate)]),
    ];
    return {
      resultCode: code,
      avps: [...echo, ...msccResult(service, code, finalUnit), ...costOf(answer)],
      errorMessage: 'the balance is spent',
    };
  }
  const grant: AvpOut[] = [
    avpOf(ccAvps.grantedServiceUnit, [avpOf(ccAvps.ccTime, answer.grantedSeconds)]),
    avpOf(ccAvps.validityTime, answer.grantedSeconds),
  ];
  if (answer.finalUnit) {
    grant.push(
      avpOf(ccAvps.finalUnitIndication, [avpOf(ccAvps.finalUnitAction, finalUnitTerminate)]),
    );
  }
  const body = service.mscc
    ? [
        ...msccResult(service, resultCodes.success, grant),
        avpOf(ccAvps.validityTime, answer.grantedSeconds),
      ]
    : grant;
  return { resultCode: resultCodes.success, avps: [...echo, ...body, ...costOf(answer)] };
}

/** Cost-Information: what the call has cost so far, in the currency's minor units. */
function costOf(answer: CreditAnswer): AvpOut[] {
  const currencyNumber = currencyNumbers[answer.currency];
  if (currencyNumber === undefined || !isCurrency(answer.currency)) return [];
  const unitValue = avpOf(ccAvps.unitValue, [
    avpOf(ccAvps.valueDigits, answer.chargedMinor),
    avpOf(ccAvps.exponent, -currencyScale(answer.currency as Currency)),
  ]);
  return [avpOf(ccAvps.costInformation, [unitValue, avpOf(ccAvps.currencyCode, currencyNumber)])];
}

function refused(code: string, message: string, service: ServiceControl, echo: AvpOut[]): CcAnswer {
  const resultCode = switchAnswerOf(code)?.resultCode ?? resultCodes.unableToComply;
  return { resultCode, avps: [...echo, ...msccResult(service, resultCode)], errorMessage: message };
}
