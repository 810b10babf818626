/**
 * The gate of the admin pages (/admin/queues, /admin/tasks): closed unless
 * ADMIN_TOKEN is set; then open to requests carrying the token, as
 * `authorization: Bearer <token>` or, from a browser, basic auth with any
 * user name and the token as password.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** The credential a request carries: the bearer token, or the basic-auth password. */
function presented(request: Request): string | undefined {
  const header = request.headers.get("authorization") ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * Makes a gate for `token` (ADMIN_TOKEN): it returns the response refusing a
 * request, or `undefined` to let it through.
 */
export function adminGate(token: string | undefined): (request: Request) => Response | undefined {
  if (token === undefined) {
    return () =>
      Response.json(
        {
          error: "Forbidden",
          message: "The admin pages are closed. Set ADMIN_TOKEN to a long random secret and restart the server; " +
            "then open them with basic auth (any user name, the token as password) or the header 'authorization: Bearer <token>'.",
        },
        { status: 403 },
      );
  }
  const expected = digest(token);
  return (request) => {
    const given = presented(request);
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return undefined;
    return Response.json(
      {
        error: "Unauthorized",
        message:
          "The admin pages need the ADMIN_TOKEN: basic auth (any user name, the token as password) or 'authorization: Bearer <token>'.",
      },
      { status: 401, headers: { "www-authenticate": 'Basic realm="background-tasks admin", charset="UTF-8"' } },
    );
  };
}
