/// The admin console's style sheet.
enum ConsoleStyle {
    static let css = """
        :root { --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #3556d8; --bad: #b42318; --paper: #fff; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f7f8fa; }
        header { display: flex; align-items: center; gap: 24px; padding: 12px 24px; background: var(--paper); border-bottom: 1px solid var(--line); }
        h1 { font-size: 18px; margin: 0; }
        nav { display: flex; gap: 4px; flex-wrap: wrap; }
        nav button { border: 0; background: none; padding: 8px 12px; border-radius: 6px; cursor: pointer; color: var(--muted); }
        nav button.active { background: #eef2ff; color: var(--accent); font-weight: 600; }
        nav button.quiet { margin-left: 16px; }
        main { padding: 20px 24px; max-width: 1280px; }
        section#login { max-width: 520px; }
        .filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; margin-bottom: 16px; }
        .filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 4px; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; display: flex; gap: 8px; }
        fieldset label { flex-direction: row !important; align-items: center; }
        input, select, button { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--paper); }
        button[type=submit], #login-form button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
        table { width: 100%; border-collapse: collapse; background: var(--paper); margin-bottom: 16px; }
        th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { font-size: 12px; color: var(--muted); font-weight: 600; }
        .totals { display: flex; gap: 16px; margin-bottom: 12px; }
        .totals div { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 140px; }
        .totals .label { display: block; font-size: 12px; color: var(--muted); }
        .totals span:last-child { font-size: 20px; font-weight: 600; }
        #usage-chart { width: 100%; height: 240px; background: var(--paper); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 16px; }
        #usage-chart .bar { fill: var(--accent); }
        #usage-chart text { font-size: 10px; fill: var(--muted); }
        .columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
        .notice { background: #fffbeb; border: 1px solid #f5d77a; border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
        .notice code { font-size: 13px; user-select: all; word-break: break-all; }
        .error { color: var(--bad); }
        .hint { color: var(--muted); font-size: 12px; }
        .pager { display: flex; gap: 12px; align-items: center; }
        """
}
