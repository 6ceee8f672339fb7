/**
 * A small typed client written only against the types openapi-typescript generates from
 * the served document (./api.ts, made by t/integration/test_920_client.py next to a copy
 * of this file).  It is never run: it must compile with `tsc --strict`, which fails when
 * a schema generates a useless type (an empty object, a missing 405, a wrong enum).
 */
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

type LoginBody = Json<paths["/api/v1/auth/login"]["post"]["requestBody"]>;
type TokenPair = Json<paths["/api/v1/auth/login"]["post"]["responses"][200]>;
type UserQuery = NonNullable<paths["/api/v1/users"]["get"]["parameters"]["query"]>;
type UserPage = Json<paths["/api/v1/users"]["get"]["responses"][200]>;
type UserId = paths["/api/v1/users/{id}"]["get"]["parameters"]["path"]["id"];
type DidCreate = Json<paths["/api/v1/dids"]["post"]["requestBody"]>;
type Did = Json<paths["/api/v1/dids"]["post"]["responses"][201]>;
type AuditEntry = Json<paths["/api/v1/audit-logs/{id}"]["get"]["responses"][200]>;
type OpenApi = Json<paths["/api/v1/openapi.json"]["get"]["responses"][200]>;
/* Every operation documents 405 with the error envelope. */
type NotAllowed = Json<paths["/api/v1/audit-logs/{id}"]["get"]["responses"][405]>;

/** A non-2xx answer: the error envelope, and Allow on a 405. */
export class ApiFailure extends Error {
    constructor(readonly status: number, readonly body: Schemas["Error"],
                readonly allow: string | null) {
        super(`${status} ${body.error}: ${body.message} (request ${body.request_id})`);
    }
}

async function call<T>(base: string, method: string, path: string, token?: string,
                       body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (token !== undefined) {
        headers["Authorization"] = `Bearer ${token}`;
    }
    if (body !== undefined) {
        headers["Content-Type"] = "application/json";
    }
    const r = await fetch(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) {
        const failure = (await r.json()) as Schemas["Error"] | NotAllowed;
        throw new ApiFailure(r.status, failure, r.headers.get("Allow"));
    }
    return (r.status === 204 ? undefined : await r.json()) as T;
}

export function login(base: string, body: LoginBody): Promise<TokenPair> {
    return call<TokenPair>(base, "POST", "/api/v1/auth/login", undefined, body);
}

export function listUsers(base: string, token: string, query: UserQuery = {}):
        Promise<UserPage> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
        if (v !== undefined) {
            q.set(k, String(v));
        }
    }
    return call<UserPage>(base, "GET", `/api/v1/users?${q}`, token);
}

export function userPath(id: UserId): string {
    return `/api/v1/users/${id.toFixed(0)}`;
}

export function createDid(base: string, token: string, body: DidCreate): Promise<Did> {
    return call<Did>(base, "POST", "/api/v1/dids", token, body);
}

/** Every DID destination the API routes to, checked against the generated union. */
export const destinations: readonly Schemas["DidDestinationType"][] =
    ["none", "queue", "user", "endpoint", "voicemail"];

/** "field: from -> to" for an update's entry, "field = value" for a create's. */
export function describeChanges(entry: AuditEntry): string[] {
    const out: string[] = [];
    for (const [field, change] of Object.entries(entry.changes ?? {})) {
        if (change !== null && typeof change === "object" && !Array.isArray(change)
                && "from" in change && "to" in change) {
            out.push(`${field}: ${JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`);
        }
        else {
            out.push(`${field} = ${JSON.stringify(change)}`);
        }
    }
    return out;
}

export async function documentTitle(base: string): Promise<string> {
    const doc = await call<OpenApi>(base, "GET", "/api/v1/openapi.json");
    return `${doc.info.title} ${doc.info.version} (OpenAPI ${doc.openapi}, ` +
        `${Object.keys(doc.paths).length} paths)`;
}

export async function example(base: string, email: string, password: string):
        Promise<string> {
    const pair = await login(base, { email, password });
    const page = await listUsers(base, pair.access_token, { page_size: 5, sort: "-created_at" });
    const first = page.data[0];
    const did = await createDid(base, pair.access_token, {
        number: "+15551234567", destination_type: "user", destination_id: first.id,
    });
    return `${page.total} users; DID ${did.number} -> ${did.destination_type} ` +
        `${did.destination_id ?? "-"} at ${userPath(first.id)}`;
}
