/// The admin console's script: plain JavaScript over the admin API, no build step. Every value
/// from the server goes into the page as text, never as markup.
enum ConsoleScript {
    static let javascript = #"""
        "use strict";
        const state = { token: sessionStorage.getItem("mm-admin-key") || "", callsPage: 1, auditPage: 1 };
        const $ = (id) => document.getElementById(id);
        const pageSize = 20;

        function cell(text) {
          const td = document.createElement("td");
          td.textContent = text === null || text === undefined ? "" : String(text);
          return td;
        }
        function row(values, extra) {
          const tr = document.createElement("tr");
          for (const value of values) tr.appendChild(cell(value));
          if (extra) { const td = document.createElement("td"); td.appendChild(extra); tr.appendChild(td); }
          return tr;
        }
        function fill(tableID, rows) {
          const body = $(tableID).querySelector("tbody");
          body.replaceChildren(...rows);
        }
        const number = (value) => Number(value || 0).toLocaleString("en-US");
        const money = (value) => Number(value || 0).toFixed(6);
        function show(message) { $("status").textContent = message || ""; }

        async function api(path, options = {}) {
          const response = await fetch(path, {
            method: options.method || "GET",
            headers: { "Authorization": "Bearer " + state.token, "Content-Type": "application/json" },
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
          });
          const text = await response.text();
          let body = null;
          try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
          if (!response.ok) {
            const reason = body && (typeof body.error === "string" ? body.error : body.error && body.error.message);
            throw new Error(reason || (response.status + " " + response.statusText));
          }
          return body;
        }
        function query(parameters) {
          const search = new URLSearchParams();
          for (const [key, value] of Object.entries(parameters)) if (value !== "" && value !== undefined) search.set(key, value);
          const text = search.toString();
          return text ? "?" + text : "";
        }
        async function guarded(work) {
          show("");
          try { await work(); } catch (error) { show(error.message); }
        }

        // MARK: sign-in and tabs

        async function signIn(token) {
          state.token = token;
          await api("/api/v1/admin/token-stats");
          sessionStorage.setItem("mm-admin-key", token);
          $("login").hidden = true;
          $("tabs").hidden = false;
          select("usage");
        }
        function select(tab) {
          for (const button of document.querySelectorAll("#tabs button[data-tab]")) {
            button.classList.toggle("active", button.dataset.tab === tab);
          }
          for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== tab;
          guarded(loaders[tab]);
        }

        // MARK: usage

        function period(granularity, anchor) {
          const [year, month] = anchor.split("-");
          if (granularity === "day") return [anchor, anchor];
          if (granularity === "month") {
            const last = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
            return [`${year}-${month}-01`, `${year}-${month}-${String(last).padStart(2, "0")}`];
          }
          return [`${year}-01-01`, `${year}-12-31`];
        }
        async function loadUsage() {
          const granularity = $("granularity").value;
          const [start, end] = period(granularity, $("anchor-date").value);
          const stats = await api("/api/v1/admin/token-stats" + query({
            granularity, start_date: start, end_date: end, org_id: $("usage-org").value.trim(),
          }));
          const summary = stats.summary;
          $("total-tokens").textContent = number(summary.total_tokens);
          $("total-calls").textContent = number(summary.total_calls);
          $("total-failed").textContent = number(summary.failed_calls);
          $("total-cost").textContent = money(summary.total_cost);
          drawChart(stats.series || [], $("chart-metric").value, granularity, $("anchor-date").value);
          fill("by-model", stats.by_model.map((group) => row([group.model, number(group.calls), number(group.total_tokens), money(group.cost)])));
          fill("by-org", stats.by_org.map((group) => row([group.org_id, number(group.calls), number(group.total_tokens), money(group.cost)])));
        }
        /// Every bucket of the period, as the server names them (UTC), with a short label each.
        function buckets(granularity, anchor) {
          const [year, month] = anchor.split("-");
          const pad = (value) => String(value).padStart(2, "0");
          if (granularity === "day") {
            return [...Array(24).keys()].map((hour) => [`${anchor}T${pad(hour)}:00:00Z`, pad(hour)]);
          }
          if (granularity === "month") {
            const last = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
            return [...Array(last).keys()].map((day) => [`${year}-${month}-${pad(day + 1)}T00:00:00Z`, String(day + 1)]);
          }
          const names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
          return names.map((name, index) => [`${year}-${pad(index + 1)}-01T00:00:00Z`, name]);
        }
        function drawChart(series, metric, granularity, anchor) {
          const svg = $("usage-chart");
          const ns = "http://www.w3.org/2000/svg";
          svg.replaceChildren();
          const values = new Map(series.map((bucket) => [bucket.bucket, Number(bucket[metric] || 0)]));
          const slots = buckets(granularity, anchor);
          const width = 800, height = 240, bottom = 20, top = 14;
          const maximum = Math.max(0, ...values.values());
          const slot = width / slots.length;
          let total = 0, filled = 0;
          slots.forEach(([key, name], index) => {
            const value = values.get(key) || 0;
            total += value;
            if (value > 0) filled += 1;
            const barHeight = maximum > 0 ? (height - bottom - top) * value / maximum : 0;
            const bar = document.createElementNS(ns, "rect");
            bar.setAttribute("class", "bar");
            bar.setAttribute("x", String(index * slot + slot * 0.15));
            bar.setAttribute("width", String(slot * 0.7));
            bar.setAttribute("y", String(height - bottom - barHeight));
            bar.setAttribute("height", String(barHeight));
            bar.dataset.bucket = key;
            bar.dataset.value = String(value);
            const title = document.createElementNS(ns, "title");
            title.textContent = `${key}: ${metric === "cost" ? money(value) : number(value)}`;
            bar.appendChild(title);
            svg.appendChild(bar);
            const label = document.createElementNS(ns, "text");
            label.setAttribute("x", String(index * slot + slot / 2));
            label.setAttribute("y", String(height - 6));
            label.setAttribute("text-anchor", "middle");
            label.textContent = name;
            svg.appendChild(label);
          });
          const scale = document.createElementNS(ns, "text");
          scale.setAttribute("x", "4");
          scale.setAttribute("y", "11");
          scale.textContent = `max ${metric === "cost" ? money(maximum) : number(maximum)}`;
          svg.appendChild(scale);
          svg.dataset.total = String(total);
          svg.dataset.buckets = String(filled);
        }

        // MARK: calls

        async function loadCalls() {
          const page = await api("/api/v1/admin/llm-usage" + query({
            page: state.callsPage, page_size: pageSize, org_id: $("calls-org").value.trim(),
            user_id: $("calls-user").value.trim(), model: $("calls-model").value.trim(),
            success: $("calls-success").value, start_date: $("calls-start").value, end_date: $("calls-end").value,
          }));
          fill("calls-table", page.results.map((call) => row([
            call.created_at, call.org_id, call.user_id, call.provider, call.model, number(call.total_tokens),
            call.cost === null ? "" : money(call.cost), call.latency_ms + " ms",
            call.success ? (call.cache_hit ? "cache hit" : "ok") : (call.error || "failed"),
          ])));
          const pages = Math.max(1, Math.ceil(page.total / pageSize));
          $("calls-page").textContent = `page ${page.page} of ${pages} · ${number(page.total)} calls`;
          $("calls-prev").disabled = state.callsPage <= 1;
          $("calls-next").disabled = state.callsPage >= pages;
        }

        // MARK: keys

        async function loadKeys() {
          const answer = await api("/api/v1/admin/keys");
          fill("keys-table", answer.keys.map((key) => {
            const revoked = key.revoked_at !== null;
            let action = null;
            if (!revoked) {
              action = document.createElement("button");
              action.textContent = "Revoke";
              action.className = "revoke";
              action.dataset.id = key.id;
              action.addEventListener("click", () => guarded(async () => {
                if (!confirm(`Revoke ${key.prefix} (${key.name})? Calls with it stop at once.`)) return;
                await api(`/api/v1/admin/keys/${encodeURIComponent(key.id)}/revoke`, { method: "POST" });
                await loadKeys();
              }));
            }
            const tr = row([
              key.prefix, key.name, key.org_id, key.scopes.join(", "), key.allowed_models.join(", ") || "any",
              key.created_at, revoked ? "revoked" : "active",
            ], action || document.createTextNode(""));
            tr.dataset.id = key.id;
            return tr;
          }));
        }
        async function createKey(event) {
          event.preventDefault();
          const scopes = [...document.querySelectorAll("input[name=scope]:checked")].map((box) => box.value);
          const models = $("key-models").value.split(",").map((text) => text.trim()).filter((text) => text);
          const order = { org_id: $("key-org").value.trim(), name: $("key-name").value.trim(), scopes };
          if ($("key-user").value.trim()) order.user_id = $("key-user").value.trim();
          if (models.length) order.allowed_models = models;
          const created = await api("/api/v1/admin/keys", { method: "POST", body: order });
          $("new-key").textContent = created.key;
          $("new-key-box").hidden = false;
          await loadKeys();
        }

        // MARK: quotas

        function subjectFields(quota) {
          if (quota.subject_kind === "org") return { org_id: quota.subject_id };
          if (quota.subject_kind === "key") return { key_id: quota.subject_id };
          const [org, ...user] = quota.subject_id.split("/");
          return { org_id: org, user_id: user.join("/") };
        }
        async function loadQuotas() {
          const answer = await api("/api/v1/admin/quotas");
          fill("quotas-table", answer.quotas.map((quota) => {
            const remove = document.createElement("button");
            remove.textContent = "Remove";
            remove.addEventListener("click", () => guarded(async () => {
              await api("/api/v1/admin/quotas" + query({ ...subjectFields(quota), model: quota.model || "",
                period: quota.period, metric: quota.metric }), { method: "DELETE" });
              await loadQuotas();
            }));
            return row([`${quota.subject_kind} ${quota.subject_id}`, quota.model || "all", quota.period, quota.metric,
              quota.used, quota.limit, quota.resets_at || "never"], remove);
          }));
        }
        async function setQuota(event) {
          event.preventDefault();
          const quota = { period: $("quota-period").value, metric: $("quota-metric").value, limit: Number($("quota-limit").value) };
          for (const [field, id] of [["org_id", "quota-org"], ["user_id", "quota-user"], ["key_id", "quota-key"], ["model", "quota-model"]]) {
            const value = $(id).value.trim();
            if (value) quota[field] = value;
          }
          await api("/api/v1/admin/quotas", { method: "PUT", body: quota });
          await loadQuotas();
        }

        // MARK: audit

        async function loadAudit() {
          const page = await api("/api/v1/admin/audit" + query({
            page: state.auditPage, page_size: pageSize, actor: $("audit-actor").value.trim(),
            action: $("audit-action").value.trim(), org_id: $("audit-org").value.trim(),
          }));
          fill("audit-table", page.results.map((entry) => row([entry.at, entry.actor, entry.action, entry.target, entry.org_id, entry.address])));
          const pages = Math.max(1, Math.ceil(page.total / pageSize));
          $("audit-page").textContent = `page ${state.auditPage} of ${pages}`;
          $("audit-prev").disabled = state.auditPage <= 1;
          $("audit-next").disabled = state.auditPage >= pages;
        }

        const loaders = { usage: loadUsage, calls: loadCalls, keys: loadKeys, quotas: loadQuotas, audit: loadAudit };

        document.addEventListener("DOMContentLoaded", () => {
          $("anchor-date").value = new Date().toISOString().slice(0, 10);
          $("login-form").addEventListener("submit", async (event) => {
            event.preventDefault();
            $("login-error").textContent = "";
            try { await signIn($("admin-key").value.trim()); }
            catch (error) { state.token = ""; $("login-error").textContent = error.message; }
          });
          $("logout").addEventListener("click", () => { sessionStorage.removeItem("mm-admin-key"); location.reload(); });
          for (const button of document.querySelectorAll("#tabs button[data-tab]")) {
            button.addEventListener("click", () => select(button.dataset.tab));
          }
          $("usage-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(loadUsage); });
          $("chart-metric").addEventListener("change", () => guarded(loadUsage));
          $("calls-form").addEventListener("submit", (event) => { event.preventDefault(); state.callsPage = 1; guarded(loadCalls); });
          $("calls-prev").addEventListener("click", () => { state.callsPage -= 1; guarded(loadCalls); });
          $("calls-next").addEventListener("click", () => { state.callsPage += 1; guarded(loadCalls); });
          $("key-form").addEventListener("submit", (event) => guarded(() => createKey(event)));
          $("quota-form").addEventListener("submit", (event) => guarded(() => setQuota(event)));
          $("audit-form").addEventListener("submit", (event) => { event.preventDefault(); state.auditPage = 1; guarded(loadAudit); });
          $("audit-prev").addEventListener("click", () => { state.auditPage -= 1; guarded(loadAudit); });
          $("audit-next").addEventListener("click", () => { state.auditPage += 1; guarded(loadAudit); });
          if (state.token) signIn(state.token).catch(() => { sessionStorage.removeItem("mm-admin-key"); state.token = ""; });
        });
        """#
}
