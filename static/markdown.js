// A message's text as Markdown: CommonMark with GitHub's strikethrough,
// fenced code highlighted by highlight.js, and maths between $...$ (inline)
// or $$...$$ (display) typeset by KaTeX. The server sends text, never HTML
// (docs/protocol.md): this page alone turns it into elements.
//
// Another person's text must never run script here. Three walls:
//   1. marked never passes HTML through: a raw "<img onerror=...>" is escaped
//      and shown as the text it is.
//   2. KaTeX runs with trust: false, so \href, \url, \includegraphics and
//      \htmlClass are refused (shown as an error in red), never rendered.
//   3. Everything marked and KaTeX produce goes through DOMPurify with a short
//      list of tags and attributes before it reaches the page: no images, no
//      forms, no style except KaTeX's sizes, and links only to http, https and
//      mailto addresses, opening a new tab without `opener`.
// The copy buttons of code blocks are built afterwards, element by element.

import DOMPurify from "./vendor/dompurify/purify.es.mjs";
import hljs from "./vendor/highlight/highlight.min.js";
import katex from "./vendor/katex/katex.mjs";
import { Marked } from "./vendor/marked/marked.esm.js";

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]);
}

// ---- Maths: a small marked extension for the two delimiters ---------------------

function typeset(tex, displayMode) {
  // trust: false refuses \href and friends; throwOnError: false shows a
  // mistake in red instead of losing the message. maxSize and maxExpand keep
  // one message from drawing a page-sized box or expanding macros forever.
  return katex.renderToString(tex, {
    displayMode, throwOnError: false, trust: false, strict: "ignore",
    maxSize: 20, maxExpand: 200, output: "htmlAndMathml",
  });
}

const DISPLAY_MATH = /^\$\$(?!\$)([\s\S]+?)\$\$/;
// "$x^2$": no space just inside the dollars and no digit right after, so
// "it costs $5 and $6" stays text.
const INLINE_MATH = /^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/;

const mathBlock = {
  name: "mathBlock",
  level: "block",
  start: (source) => source.match(/^\$\$/m)?.index,
  tokenizer(source) {
    const match = /^\$\$(?!\$)([\s\S]+?)\$\$[ \t]*(?:\n|$)/.exec(source);
    if (match) return { type: "mathBlock", raw: match[0], tex: match[1].trim() };
    return undefined;
  },
  renderer: (token) => `<div class="math-display">${typeset(token.tex, true)}</div>\n`,
};

const mathInline = {
  name: "mathInline",
  level: "inline",
  start: (source) => source.indexOf("$"),
  tokenizer(source) {
    const display = DISPLAY_MATH.exec(source);
    if (display) return { type: "mathInline", raw: display[0], tex: display[1].trim(), display: true };
    const inline = INLINE_MATH.exec(source);
    if (inline) return { type: "mathInline", raw: inline[0], tex: inline[1], display: false };
    return undefined;
  },
  renderer: (token) => typeset(token.tex, token.display),
};

// ---- marked ------------------------------------------------------------------------

const LANGUAGE = /^[\w+#.-]{1,30}$/;

const marked = new Marked({
  gfm: true,
  breaks: true,  // a newline the sender typed (Shift+Enter) stays a new line
  extensions: [mathBlock, mathInline],
  tokenizer: {
    // GFM links "www.example.org" too; this chat links only what names its
    // scheme (as before Markdown), so a bare www. address stays text.
    url(source) {
      const bare = /^www\.[^\s<]*/i.exec(source);
      if (bare) return { type: "text", raw: bare[0], text: bare[0] };
      return false;  // the usual GFM autolink
    },
  },
  renderer: {
    // Raw HTML in a message is text, block or inline.
    html: ({ text }) => escapeHtml(text),
    code({ text, lang }) {
      const language = (lang || "").trim().split(/\s+/)[0];
      const known = LANGUAGE.test(language) && hljs.getLanguage(language);
      const body = known
        ? hljs.highlight(text, { language, ignoreIllegals: true }).value
        : escapeHtml(text);
      const name = known ? ` language-${escapeHtml(language)}` : "";
      return `<pre><code class="hljs${name}">${body}</code></pre>\n`;
    },
    // No images from other people's addresses (they would tell that server who
    // reads the chat): a link to it instead, its alt text as the words.
    image({ href, text }) {
      return `<a href="${escapeHtml(href || "")}">${escapeHtml(text || href || "")}</a>`;
    },
    checkbox: () => "",  // a task list's "[ ]" is not a form control here
  },
});

// ---- DOMPurify ----------------------------------------------------------------------

const MATHML_TAGS = [
  "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
  "msup", "msub", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover",
  "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose",
];
const PURIFY = {
  ALLOWED_TAGS: [
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "span", "div",
    "table", "thead", "tbody", "tr", "th", "td", "svg", "path", "line",
    ...MATHML_TAGS,
  ],
  ALLOWED_ATTR: [
    "href", "title", "class", "style", "start", "align", "aria-hidden",
    // KaTeX's MathML and its few SVG pieces (square roots, long arrows)
    "xmlns", "encoding", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
    "width", "height", "depth", "voffset", "columnalign", "rowspacing", "columnspacing",
    "columnlines", "rowlines", "displaystyle", "scriptlevel", "accent", "accentunder",
    "minsize", "maxsize", "movablelimits", "linethickness", "notation", "symmetric",
    "viewBox", "preserveAspectRatio", "d", "x1", "x2", "y1", "y2", "stroke-width",
  ],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

// KaTeX sizes and places its boxes with inline styles; nothing else may use one.
const KATEX_STYLE = new Set([
  "height", "width", "min-width", "max-width", "vertical-align", "top", "bottom", "left",
  "right", "margin-left", "margin-right", "margin-top", "margin-bottom", "padding-left",
  "padding-right", "border-bottom-width", "border-top-width", "border-right-width",
  "border-left-width", "color", "background-color", "border-color", "position",
]);
const STYLE_VALUE = /^(?:-?[\d.]+(?:em|ex|px|pt|%)?|#[0-9a-f]{3,8}|[a-z]+|calc\([-\d.+ em]+\))$/i;

function katexStyle(style) {
  return style.split(";").map((declaration) => declaration.split(":").map((part) => part.trim()))
    .filter(([property, value, ...rest]) => rest.length === 0 && value !== undefined
      && KATEX_STYLE.has(property.toLowerCase()) && STYLE_VALUE.test(value))
    .map(([property, value]) => `${property}:${value}`).join(";");
}

function isSafeAddress(href) {
  try {
    const url = new URL(href, location.href);
    return ["http:", "https:", "mailto:"].includes(url.protocol) && /^(?:https?|mailto):/i.test(href);
  } catch (error) {
    return false;
  }
}

DOMPurify.addHook("uponSanitizeAttribute", (node, data) => {
  if (data.attrName === "style") {
    const inMaths = node.closest?.(".katex, .katex-display, .katex-error") != null;
    data.attrValue = inMaths ? katexStyle(data.attrValue) : "";
    if (!data.attrValue) data.keepAttr = false;
  }
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName !== "A") return;
  if (node.hasAttribute("href") && isSafeAddress(node.getAttribute("href"))) {
    node.setAttribute("target", "_blank");
    // noopener: the opened page cannot reach back (window.opener); noreferrer:
    // it is not told our address; nofollow: a chat is no endorsement.
    node.setAttribute("rel", "noopener noreferrer nofollow");
  } else {
    node.removeAttribute("href");  // an <a> without href is words, not a link
  }
});

// ---- The element -------------------------------------------------------------------

// The body of a message: its text rendered as Markdown, sanitised, with a copy
// button on each code block. dir="auto" lets an Arabic or Hebrew message read
// right to left among English ones.
export function markdownText(text) {
  const element = document.createElement("div");
  element.className = "text markdown";
  element.dir = "auto";
  element.append(DOMPurify.sanitize(marked.parse(text), PURIFY));
  element.querySelectorAll("pre").forEach(withCopyButton);
  return element;
}

// A code block in a frame that scrolls sideways, with a button that copies its code.
function withCopyButton(pre) {
  const frame = document.createElement("div");
  frame.className = "code-block";
  pre.tabIndex = 0;  // a keyboard can scroll a long line into view
  pre.before(frame);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy-code";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy code");
  button.addEventListener("click", () => copyCode(pre, button));
  frame.append(pre, button);
}

const copiedTimers = new WeakMap();  // button -> its timer back to "Copy"

async function copyCode(pre, button) {
  try {
    await navigator.clipboard.writeText(pre.textContent);
    button.textContent = "Copied";
    button.dataset.state = "copied";
  } catch (error) {
    button.textContent = "Copy failed";
    button.dataset.state = "failed";
  }
  clearTimeout(copiedTimers.get(button));
  copiedTimers.set(button, setTimeout(() => {
    button.textContent = "Copy";
    delete button.dataset.state;
  }, 2000));
}
