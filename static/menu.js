// A menu behind a button, usable with the keyboard alone: the button says it
// opens a menu (aria-haspopup, aria-expanded); Enter, Space or a click opens
// it with the focus on its first item; the arrow keys, Home and End move;
// Escape (or Tab, or a click elsewhere) closes it and the focus goes back to
// the button. Its items are made when it opens, so they follow what is true
// then (muted or not, host or not). One menu is open at a time.

let counter = 0;      // numbers the menus, for aria-controls
let openMenu = null;  // {button, list} of the menu that is open

// A menu: `label` names the button (it shows only "⋯", or `face`); `items()`
// returns [{label, run}] when it opens. `horizontal`: its items are in a row
// (the reaction picker), and Left and Right move too. Returns the element to put in the page.
export function menuButton(label, items, { face = "⋯", horizontal = false } = {}) {
  counter += 1;
  const wrapper = document.createElement("div");
  wrapper.className = "menu";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "menu-button";
  button.textContent = face;
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  const list = document.createElement("ul");
  list.className = "menu-list";
  list.id = `menu-${counter}`;
  list.setAttribute("role", "menu");
  list.setAttribute("aria-label", label);
  if (horizontal) list.setAttribute("aria-orientation", "horizontal");
  list.hidden = true;
  button.setAttribute("aria-controls", list.id);
  const menu = { button, list };
  button.addEventListener("click", () => (list.hidden ? open(menu, items()) : close(true)));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && list.hidden) {
      event.preventDefault();
      open(menu, items());
    }
  });
  list.addEventListener("keydown", (event) => onMenuKey(event, menu));
  wrapper.append(button, list);
  return wrapper;
}

function open(menu, items) {
  close(false);
  const entries = items.map(({ label, run }) => {
    const item = document.createElement("button");
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.tabIndex = -1;
    item.textContent = label;
    item.addEventListener("click", () => {
      close(true);
      run();
    });
    const row = document.createElement("li");
    row.setAttribute("role", "none");
    row.append(item);
    return row;
  });
  if (entries.length === 0) return;
  menu.list.replaceChildren(...entries);
  menu.list.hidden = false;
  menu.button.setAttribute("aria-expanded", "true");
  openMenu = menu;
  document.addEventListener("pointerdown", onPointerDown);
  menu.list.scrollIntoView({ block: "nearest" });  // the last message's menu, below the fold
  menuItems(menu)[0].focus();
}

// Close the open menu, if any; `refocus`: the focus goes back to its button.
function close(refocus) {
  if (openMenu === null) return;
  const { button, list } = openMenu;
  openMenu = null;
  document.removeEventListener("pointerdown", onPointerDown);
  list.hidden = true;
  list.replaceChildren();
  button.setAttribute("aria-expanded", "false");
  if (refocus && button.isConnected) button.focus();
}

function menuItems(menu) {
  return Array.from(menu.list.querySelectorAll("[role=menuitem]"));
}

function onMenuKey(event, menu) {
  const items = menuItems(menu);
  const at = items.indexOf(document.activeElement);
  const next = (at + 1) % items.length;
  const previous = (at - 1 + items.length) % items.length;
  const moves = { ArrowDown: next, ArrowUp: previous, Home: 0, End: items.length - 1 };
  if (menu.list.getAttribute("aria-orientation") === "horizontal") {
    Object.assign(moves, { ArrowRight: next, ArrowLeft: previous });
  }
  if (event.key in moves) {
    event.preventDefault();
    items[moves[event.key]].focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();  // this Escape is the menu's, not the invite panel's
    close(true);
  } else if (event.key === "Tab") {
    close(true);  // and the Tab goes on from the button
  }
}

function onPointerDown(event) {
  if (openMenu !== null && !openMenu.button.parentElement.contains(event.target)) close(false);
}
