import HTTPTypes
import Hummingbird
import NIOCore

/// `/admin`: the admin console, a page and its script and style sheet compiled into the binary
/// (no build step, nothing fetched from elsewhere). It signs in with an admin key or token and
/// talks to the admin API like any other client; the page itself holds no data.
enum AdminConsole {
    static func register(on router: Router<FaceContext>) {
        router.get("/admin") { _, _ in asset(ConsolePage.html, type: "text/html; charset=utf-8") }
        router.get("/admin/console.js") { _, _ in
            asset(ConsoleScript.javascript, type: "text/javascript; charset=utf-8")
        }
        router.get("/admin/console.css") { _, _ in asset(ConsoleStyle.css, type: "text/css; charset=utf-8") }
    }

    private static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        // Only this server's own script and style run; no frame may embed the console.
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
