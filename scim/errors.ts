// The errors of the SCIM client layer. Every failure of a request leaves the client as one of the
// five kinds of engine/errors.ts (classify.ts); the classes here are the folder's own, met on the way.
// ResponseTooLargeError is defined beside the transport that throws it and named here with the rest.
export { ResponseTooLargeError } from './transport.ts';
