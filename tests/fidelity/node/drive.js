#!/usr/bin/env node
// Drives a Kaltura api_v3 server (our emulator) with Kaltura's official Node client
// (npm `kaltura-client`, pinned in package.json) and prints one JSON document of what the
// client got back, for crates/kalcord-kaltura-emulator/tests/fidelity.rs to assert on.
//
// Usage: node drive.js SERVICE_URL PARTNER_ID ADMIN_SECRET
//    or: KALCORD_FIDELITY_SERVICE_URL=… KALCORD_FIDELITY_PARTNER_ID=… KALCORD_FIDELITY_ADMIN_SECRET=… node drive.js
//
// Every call goes through the client's normal API: `kaltura.services.X.Y(…)` builds a request,
// `.execute(client)` sends it (format=1, JSON body) and returns a promise that rejects with the
// server's `{code, message, objectType, args}` object on an API error. Exit codes: 0 done (API
// errors are results, not failures), 1 unexpected failure (transport, client bug), 2 usage,
// 3 dependencies missing (run `make fidelity-deps`).
'use strict';

const EXIT_UNEXPECTED = 1;
const EXIT_USAGE = 2;
const EXIT_DEPS = 3;
const CLIENT_VERSION = '21.20.0';

let kaltura;
try {
	kaltura = require('kaltura-client');
} catch (error) {
	process.stderr.write(
		`drive.js: cannot load the official Kaltura Node client (${error.message}); run \`make fidelity-deps\`\n`,
	);
	process.exit(EXIT_DEPS);
}
const installed = require('kaltura-client/package.json').version;
if (installed !== CLIENT_VERSION) {
	process.stderr.write(`drive.js: kaltura-client ${installed} installed, ${CLIENT_VERSION} pinned; run \`make fidelity-deps\`\n`);
	process.exit(EXIT_DEPS);
}

const [serviceUrl, partnerText, adminSecret] = [
	process.argv[2] || process.env.KALCORD_FIDELITY_SERVICE_URL,
	process.argv[3] || process.env.KALCORD_FIDELITY_PARTNER_ID,
	process.argv[4] || process.env.KALCORD_FIDELITY_ADMIN_SECRET,
];
const partnerId = Number(partnerText);
if (!serviceUrl || !Number.isInteger(partnerId) || !adminSecret) {
	process.stderr.write('usage: node drive.js SERVICE_URL PARTNER_ID ADMIN_SECRET\n');
	process.exit(EXIT_USAGE);
}

// The default logger prints every request (secrets included) to stdout, which must hold only
// our JSON: log to stderr, and only when asked.
class StderrLogger extends kaltura.ILogger {
	log(message) {
		if (process.env.KALCORD_FIDELITY_DEBUG) {
			process.stderr.write(`kaltura-client: ${message}\n`);
		}
	}

	error(message) {
		this.log(message);
	}

	debug(message) {
		this.log(message);
	}
}

/** Sends one request; an API error is a result (`{ok: false, error}`), anything else throws. */
async function attempt(client, request) {
	try {
		return { ok: true, result: await request.execute(client) };
	} catch (error) {
		if (error && typeof error === 'object' && error.code && error.message && !(error instanceof Error)) {
			return { ok: false, error };
		}
		throw error;
	}
}

/** Like `attempt`, but an API error is unexpected. */
async function must(client, request, what) {
	const outcome = await attempt(client, request);
	if (!outcome.ok) {
		throw new Error(`${what} failed: ${JSON.stringify(outcome.error)}`);
	}
	return outcome.result;
}

async function main() {
	const config = new kaltura.Configuration();
	config.serviceUrl = serviceUrl;
	config.timeout = 10000;
	config.setLogger(new StderrLogger());
	const client = new kaltura.Client(config);
	const { services, objects, enums } = kaltura;
	const out = {
		client: { package: 'kaltura-client', version: installed, apiVersion: client.getApiVersion(), clientTag: client.getClientTag() },
		serviceUrl,
		partnerId,
	};

	// session.start: a wrong secret first (START_SESSION_ERROR), then the real one (ADMIN).
	out.sessionStartBadSecret = await attempt(
		client,
		services.session.start('not-the-secret', 'fidelity-admin', enums.SessionType.ADMIN, partnerId, 86400, 'disableentitlement'),
	);
	const ks = await must(
		client,
		services.session.start(adminSecret, 'fidelity-admin', enums.SessionType.ADMIN, partnerId, 86400, 'disableentitlement'),
		'session.start',
	);
	out.sessionStart = { ok: true, result: ks };
	client.setKs(ks);
	out.sessionGet = await attempt(client, services.session.get());

	// user.add / user.get, then the error objects of a missing and a duplicate user.
	const user = new objects.User({
		id: 'discord-1111',
		screenName: 'Max Power',
		firstName: 'Max',
		lastName: 'Power',
		email: 'max@example.com',
		type: enums.UserType.USER,
	});
	out.userAdd = await attempt(client, services.user.add(user));
	out.userGet = await attempt(client, services.user.get('discord-1111'));
	out.userGetMissing = await attempt(client, services.user.get('nobody'));
	out.userAddDuplicate = await attempt(client, services.user.add(new objects.User({ id: 'discord-1111' })));

	// scheduleResource.add: a Newrow room, as the VPaaS meetings guide does.
	out.scheduleResourceAdd = await attempt(
		client,
		services.scheduleResource.add(
			new objects.LocationScheduleResource({ name: 'Room-1', tags: 'vcprovider:newrow', description: 'fidelity' }),
		),
	);

	// A multirequest the way the Node client builds one: request.add(request)…; the second
	// sub-request reads the first one's id through a `{1:result:id}` reference (1-based), the
	// third fails (no such event) without failing the others.
	const multi = services.scheduleResource
		.add(new objects.LocationScheduleResource({ name: 'Room-2', tags: 'vcprovider:newrow' }))
		.add(services.scheduleResource.get('{1:result:id}'))
		.add(services.scheduleEvent.get(987654321));
	out.multirequest = await attempt(client, multi);

	process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => {
	process.stderr.write(`drive.js: unexpected failure: ${error && error.stack ? error.stack : JSON.stringify(error)}\n`);
	process.exit(EXIT_UNEXPECTED);
});
