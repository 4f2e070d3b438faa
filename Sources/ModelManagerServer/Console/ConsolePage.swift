/// The admin console's page: a shell the script fills in. Served at `/admin`.
enum ConsolePage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>Model Manager · Admin</title>
          <link rel="stylesheet" href="/admin/console.css">
          <script src="/admin/console.js" defer></script>
        </head>
        <body>
          <header>
            <h1>Model Manager</h1>
            <nav id="tabs" hidden>
              <button data-tab="usage" class="active">Usage</button>
              <button data-tab="calls">Calls</button>
              <button data-tab="keys">Keys</button>
              <button data-tab="quotas">Quotas &amp; limits</button>
              <button data-tab="audit">Audit log</button>
              <button id="logout" class="quiet">Log out</button>
            </nav>
          </header>
          <main>
            <section id="login">
              <h2>Sign in</h2>
              <p>Paste an admin key (<code>mmk_…</code> with the <code>admin:read</code> scope) or an admin token.</p>
              <form id="login-form">
                <input id="admin-key" type="password" autocomplete="off" placeholder="mmk_… or eyJ…" required>
                <button type="submit">Sign in</button>
              </form>
              <p id="login-error" class="error" role="alert"></p>
            </section>

            <section id="usage" class="tab" hidden>
              <form id="usage-form" class="filters">
                <label>Period <select id="granularity">
                  <option value="day">Day (by hour)</option>
                  <option value="month">Month (by day)</option>
                  <option value="year">Year (by month)</option>
                </select></label>
                <label>Date <input id="anchor-date" type="date" required></label>
                <label>Org <input id="usage-org" placeholder="all"></label>
                <label>Chart <select id="chart-metric">
                  <option value="total_tokens">Tokens</option>
                  <option value="calls">Calls</option>
                  <option value="cost">Cost</option>
                </select></label>
                <button type="submit">Show</button>
              </form>
              <div class="totals">
                <div><span class="label">Tokens</span><span id="total-tokens">–</span></div>
                <div><span class="label">Calls</span><span id="total-calls">–</span></div>
                <div><span class="label">Failed</span><span id="total-failed">–</span></div>
                <div><span class="label">Cost</span><span id="total-cost">–</span></div>
              </div>
              <svg id="usage-chart" role="img" aria-label="usage over time" viewBox="0 0 800 240"></svg>
              <div class="columns">
                <div><h3>By model</h3><table id="by-model"><thead><tr><th>Model</th><th>Calls</th><th>Tokens</th><th>Cost</th></tr></thead><tbody></tbody></table></div>
                <div><h3>By org</h3><table id="by-org"><thead><tr><th>Org</th><th>Calls</th><th>Tokens</th><th>Cost</th></tr></thead><tbody></tbody></table></div>
              </div>
            </section>

            <section id="calls" class="tab" hidden>
              <form id="calls-form" class="filters">
                <label>Org <input id="calls-org"></label>
                <label>User <input id="calls-user"></label>
                <label>Model <input id="calls-model"></label>
                <label>Outcome <select id="calls-success"><option value="">any</option><option value="true">succeeded</option><option value="false">failed</option></select></label>
                <label>From <input id="calls-start" type="date"></label>
                <label>To <input id="calls-end" type="date"></label>
                <button type="submit">Filter</button>
              </form>
              <table id="calls-table"><thead><tr><th>Time</th><th>Org</th><th>User</th><th>Provider</th><th>Model</th><th>Tokens</th><th>Cost</th><th>Latency</th><th>Outcome</th></tr></thead><tbody></tbody></table>
              <div class="pager"><button id="calls-prev">‹ Newer</button><span id="calls-page"></span><button id="calls-next">Older ›</button></div>
            </section>

            <section id="keys" class="tab" hidden>
              <form id="key-form" class="filters">
                <label>Org <input id="key-org" required></label>
                <label>Name <input id="key-name" required></label>
                <label>User <input id="key-user" placeholder="any"></label>
                <label>Models <input id="key-models" placeholder="any (comma-separated)"></label>
                <fieldset><legend>Scopes</legend>
                  <label><input type="checkbox" name="scope" value="invoke" checked> invoke</label>
                  <label><input type="checkbox" name="scope" value="tasks"> tasks</label>
                  <label><input type="checkbox" name="scope" value="admin:read"> admin:read</label>
                  <label><input type="checkbox" name="scope" value="admin:write"> admin:write</label>
                </fieldset>
                <button type="submit">Create key</button>
              </form>
              <div id="new-key-box" class="notice" hidden>
                <p>This key is shown once. Copy it now: it cannot be read again.</p>
                <code id="new-key"></code>
              </div>
              <table id="keys-table"><thead><tr><th>Key</th><th>Name</th><th>Org</th><th>Scopes</th><th>Models</th><th>Created</th><th>State</th><th></th></tr></thead><tbody></tbody></table>
            </section>

            <section id="quotas" class="tab" hidden>
              <form id="quota-form" class="filters">
                <label>Org <input id="quota-org"></label>
                <label>User <input id="quota-user" placeholder="org-wide"></label>
                <label>Key id <input id="quota-key" placeholder="none"></label>
                <label>Model <input id="quota-model" placeholder="all"></label>
                <label>Period <select id="quota-period"><option>minute</option><option selected>daily</option><option>monthly</option><option>total</option></select></label>
                <label>Metric <select id="quota-metric"><option>calls</option><option selected>tokens</option><option>cost</option></select></label>
                <label>Limit <input id="quota-limit" type="number" min="0" step="any" required></label>
                <button type="submit">Set quota</button>
              </form>
              <p class="hint">A <em>minute</em> quota is a rate limit (requests or tokens per minute).</p>
              <table id="quotas-table"><thead><tr><th>Subject</th><th>Model</th><th>Period</th><th>Metric</th><th>Used</th><th>Limit</th><th>Resets</th><th></th></tr></thead><tbody></tbody></table>
            </section>

            <section id="audit" class="tab" hidden>
              <form id="audit-form" class="filters">
                <label>Actor <input id="audit-actor"></label>
                <label>Action <input id="audit-action" placeholder="key.created"></label>
                <label>Org <input id="audit-org"></label>
                <button type="submit">Filter</button>
              </form>
              <table id="audit-table"><thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>Org</th><th>Address</th></tr></thead><tbody></tbody></table>
              <div class="pager"><button id="audit-prev">‹ Newer</button><span id="audit-page"></span><button id="audit-next">Older ›</button></div>
            </section>
            <p id="status" class="error" role="alert"></p>
          </main>
        </body>
        </html>
        """
}
