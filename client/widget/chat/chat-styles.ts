/** The panel's CSS (the launcher's is in ../loader-styles.ts; both live in the same shadow root). */
export const CHAT_CSS = `
.panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:var(--parley-background);color:var(--parley-text);border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28);overflow:hidden;animation:parley-in .18s ease-out}
.panel[hidden]{display:none}
.parley[data-position=left] .panel{right:auto;left:20px}
@keyframes parley-in{from{opacity:0;transform:translateY(12px)}}
.header{display:flex;align-items:center;gap:8px;padding:12px 10px 12px 18px;background:var(--parley-primary);color:var(--parley-on-primary)}
.title{flex:1;margin:0;font-size:17px;font-weight:600;line-height:1.3}
.close{flex:none;width:38px;height:38px;padding:0;border:0;border-radius:8px;background:transparent;color:inherit;display:grid;place-items:center;cursor:pointer}
.close:hover{background:color-mix(in srgb,currentColor 16%,transparent)}
.close svg{width:22px;height:22px}
.close:focus{outline:none}
.close:focus-visible{outline:2px solid currentColor;outline-offset:-3px}
.status{margin:0;padding:8px 18px;font-size:13px;background:#fff4d6;color:#4a3800}
.status[data-kind=error]{background:#fde8e8;color:#7a1010}
.status:empty{display:none}
.log{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:16px;display:flex;flex-direction:column;gap:8px}
.log:focus{outline:none}
.log:focus-visible{outline:2px solid var(--parley-primary);outline-offset:-2px}
.msg{max-width:85%;padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere}
.msg[data-role=bot],.msg[data-role=agent]{align-self:flex-start;background:color-mix(in srgb,var(--parley-text) 8%,var(--parley-background));border-bottom-left-radius:4px}
.msg[data-role=customer]{align-self:flex-end;background:var(--parley-primary);color:var(--parley-on-primary);border-bottom-right-radius:4px}
.msg[data-state=pending]{opacity:.6}
.msg p{margin:0}
.msg[hidden]{display:none}
.who{display:block;margin-bottom:2px;font-size:12px;font-weight:600;opacity:.8}
.sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.dots{display:inline-flex;gap:4px;padding:5px 0}
.dots i{width:7px;height:7px;border-radius:50%;background:currentColor;opacity:.35;animation:parley-dot 1.2s infinite}
.dots i:nth-child(2){animation-delay:.2s}
.dots i:nth-child(3){animation-delay:.4s}
@keyframes parley-dot{30%{opacity:.9;transform:translateY(-2px)}}
.handoff{padding:0 16px}
.handoff:empty{display:none}
.ask-person{display:block;margin:0 0 8px auto;padding:4px 2px;border:0;background:none;font:inherit;font-size:13px;color:var(--parley-primary);text-decoration:underline;cursor:pointer}
.ask-person:disabled{opacity:.6;cursor:default}
.notice{margin:0 0 10px;padding:10px 12px;border-radius:10px;font-size:14px;background:color-mix(in srgb,var(--parley-primary) 12%,var(--parley-background))}
.contact{display:grid;gap:6px;margin:0 0 12px}
.contact label{font-size:13px;font-weight:600}
.row{display:flex;gap:8px}
.row input{flex:1;min-width:0}
.composer{display:grid;grid-template-columns:1fr auto;gap:6px 8px;padding:10px 12px 12px;border-top:1px solid color-mix(in srgb,var(--parley-text) 14%,transparent)}
input,textarea,button{font:inherit;margin:0}
input,textarea{color:var(--parley-text);background:var(--parley-background);border:1px solid color-mix(in srgb,var(--parley-text) 35%,transparent);border-radius:10px;padding:9px 12px}
textarea{display:block;width:100%;height:44px;max-height:120px;resize:none}
input:focus,textarea:focus{outline:2px solid var(--parley-primary);outline-offset:1px;border-color:var(--parley-primary)}
input[aria-invalid=true]{border-color:#b00020}
.send,.submit{padding:0 16px;min-height:44px;border:0;border-radius:10px;background:var(--parley-primary);color:var(--parley-on-primary);font-weight:600;cursor:pointer}
.send:focus,.submit:focus{outline:none}
.send:focus-visible,.submit:focus-visible{outline:2px solid var(--parley-primary);outline-offset:2px}
.send:disabled,textarea:disabled{opacity:.5;cursor:not-allowed}
.counter{grid-column:1/-1;margin:0;font-size:12px;text-align:right;opacity:.7}
.counter:empty{display:none}
.counter[data-over]{color:#b00020;opacity:1;font-weight:600}
.error{grid-column:1/-1;margin:0;font-size:13px;color:#b00020}
.error:empty{display:none}
@media (max-width:480px){.parley .panel,.parley[data-position=left] .panel{inset:0;width:auto;max-width:none;height:auto;max-height:none;border-radius:0}}
`;
