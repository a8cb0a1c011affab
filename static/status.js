// What the page says about itself: the status line ("Connected as ada",
// "Disconnected — reconnecting in 2 s…") and the notice (a refusal, a
// warning). Text and <bdi> nicknames only (text.js), never HTML.

const status = document.getElementById("status");
const notice = document.getElementById("notice");

// The connection's state, in text and, for our nickname, a <bdi> (nickName).
export function setStatus(kind, ...parts) {
  status.dataset.state = kind;
  status.replaceChildren(...parts);
}

export function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
}

export function hideNotice() {
  notice.hidden = true;
}

// Hide the notice if it still says `text`: a newer notice stays.
export function withdrawNotice(text) {
  if (notice.textContent === text) hideNotice();
}
