// Tabs (WAI-ARIA Authoring Practices "tabs" pattern): arrow keys, Home and End
// move between tabs; the selected tab alone is in the tab order.

export function setUpTabs(tablist, onSelect) {
  const tabs = () => [...tablist.querySelectorAll('[role="tab"]')].filter((tab) => !tab.hidden);
  const nameOf = (tab) => tab.id.replace(/^tab-/, '');
  let current = nameOf(tablist.querySelector('[aria-selected="true"]'));

  function select(tab, { focus = true } = {}) {
    for (const each of tablist.querySelectorAll('[role="tab"]')) {
      const selected = each === tab;
      each.setAttribute('aria-selected', selected ? 'true' : 'false');
      each.tabIndex = selected ? 0 : -1;
      document.getElementById(each.getAttribute('aria-controls')).hidden = !selected;
    }
    current = nameOf(tab);
    if (focus) tab.focus();
    onSelect?.(current);
  }

  tablist.addEventListener('click', (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(tab);
  });
  tablist.addEventListener('keydown', (event) => {
    const list = tabs();
    const index = list.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: list.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(list[(moves[event.key] + list.length) % list.length]);
  });

  return {
    current: () => current,
    select: (name) => select(document.getElementById(`tab-${name}`), { focus: false }),
    setVisible(name, visible) {
      const tab = document.getElementById(`tab-${name}`);
      tab.hidden = !visible;
      if (!visible && current === name) select(tabs()[0], { focus: false });
    },
  };
}
