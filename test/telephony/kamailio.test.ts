// Calls through a real Kamailio charged by Tollgate, in both kits: the evapi agent and plain
// HTTP. One file, so the two suites run one after the other (each starts Kamailio, Tollgate and
// sipp; side by side on a small machine they would measure each other's load). The cases are in
// kamailio-calls.ts.

import { evapiKit } from './evapi-kit.ts';
import { httpKit } from './http-kit.ts';
import { callCases } from './kamailio-calls.ts';

callCases(evapiKit);
callCases(httpKit);
