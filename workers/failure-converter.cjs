// The failure converter of Ferry's worker and clients when the payload codec is on, loaded by path
// (Temporal needs a module: the worker loads it, and the workflow bundle includes it). It moves each
// failure's message and stack trace into an encoded-attributes payload, so the codec encrypts them
// like any payload: an error naming a user's attribute never reaches Temporal in clear.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
