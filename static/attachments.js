// A message's file (docs/protocol.md, "Files"): an image as a thumbnail that
// opens the whole picture in a new tab, anything else as a download link,
// "📎 notes.pdf (120 KB)".
//
// A file's name is someone's text: it goes in as text and attributes, element
// by element, never as HTML, so "<img src=x onerror=...>.png" stays a name.
// Only an address under this server's /uploads/ becomes a link or an image: a
// forged `url` ("javascript:...", another site that would learn who reads the
// chat) is shown as the name alone.

const UPLOADS = "/uploads/";
const FOLLOW_PX = 40;  // as messages.js: "at the bottom" within this much

// The element for a message's `file`, or null when the message has none.
// A pending message's file (no url yet) is shown as its name and size.
export function attachment(file) {
  if (!isFile(file)) return null;
  const url = uploadAddress(file.url);
  if (url !== null && file.image === true) return thumbnail(url, file);
  const element = document.createElement(url === null ? "span" : "a");
  element.className = "attachment attachment-file";
  if (url !== null) {
    element.setAttribute("href", url);
    element.setAttribute("download", file.name);
  }
  const clip = document.createElement("span");
  clip.setAttribute("aria-hidden", "true");  // "paperclip" read aloud before each name helps nobody
  clip.textContent = "📎 ";
  element.append(clip, nameElement(file.name), ` (${fileSize(file.size)})`);
  return element;
}

// "image: plan.png" or "file: notes.pdf", for the live region; "" without a file.
export function fileSummary(file) {
  if (!isFile(file)) return "";
  return `${file.image === true ? "image" : "file"}: ${file.name}`;
}

// "812 bytes", "48 KB", "3.2 MB".
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  const megabytes = bytes / (1024 * 1024);
  return `${megabytes < 10 ? megabytes.toFixed(1) : Math.round(megabytes)} MB`;
}

function isFile(file) {
  return typeof file === "object" && file !== null && typeof file.name === "string"
    && Number.isFinite(file.size);
}

// The address itself if it is one of this server's uploads, else null.
// "/uploads/../x" and "/uploads/%2e%2e/x" leave /uploads/ once resolved; a
// backslash is a slash to a browser.
function uploadAddress(url) {
  if (typeof url !== "string" || !url.startsWith(UPLOADS) || /[\\\s]/.test(url)) return null;
  let resolved;
  try {
    resolved = new URL(url, location.origin);
  } catch (error) {
    return null;
  }
  if (resolved.origin !== location.origin || !resolved.pathname.startsWith(UPLOADS)) return null;
  if (/(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i.test(url.slice(UPLOADS.length))) return null;
  return url;
}

// An image, bounded by chat.css, opening the whole file in a new tab.
function thumbnail(url, file) {
  const link = document.createElement("a");
  link.className = "attachment attachment-image";
  link.setAttribute("href", url);
  link.target = "_blank";
  link.rel = "noopener noreferrer";  // the opened tab cannot reach back to this page
  link.title = `${file.name} (${fileSize(file.size)})`;
  const image = document.createElement("img");
  image.setAttribute("alt", file.name);  // the link's name too
  image.loading = "lazy";
  image.decoding = "async";
  image.setAttribute("src", url);
  image.addEventListener("load", () => followImage(image), { once: true });
  link.append(image);
  return link;
}

function nameElement(name) {
  const element = document.createElement("bdi");  // an Arabic name keeps the words around it in place
  element.className = "file-name";
  element.textContent = name;
  return element;
}

// A picture arrives after its message: if the reader was at the bottom of the
// list before it grew, keep them there, as messages.js does for new messages.
function followImage(image) {
  const list = image.closest(".messages");
  if (list === null) return;
  const below = list.scrollHeight - list.scrollTop - list.clientHeight;
  if (below - image.offsetHeight < FOLLOW_PX) list.scrollTop = list.scrollHeight;
}
