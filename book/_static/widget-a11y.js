/* Accessible names for the widgets that html-manager draws from stored state.
 *
 * ipywidgets 8 draws a slider as a <div role="slider"> next to a <label> that is not tied to
 * it, leaves a control without a description with a hidden, empty <label>, and gives an
 * Image widget no alt text. Screen readers then announce "slider" or "list box" with no name
 * (axe rules aria-input-field-name, select-name, label, image-alt). This script names them
 * once they appear, after the page has loaded:
 *
 * - a control whose widget shows a label is named by that label (aria-labelledby);
 * - otherwise by the widget's tooltip, or else by its kind and the section it is in;
 * - a tooltip of "null" (ipywidgets 8 writes an unset tooltip so) is removed, so it is
 *   neither shown on hover nor read out as a description.
 *
 * Loaded with `defer`, only on pages with widgets (_config.yml: nb_ipywidgets_js).
 */
(function () {
  "use strict";

  const CONTROLS = 'select, input, textarea, [role="slider"]';
  let nextId = 0;

  /** The heading text of the section an element is in, without the "#" permalink. */
  function sectionTitle(element) {
    const section = element.closest("section");
    const heading = section && section.querySelector("h1, h2, h3, h4, h5, h6");
    if (!heading) {
      return document.title;
    }
    const copy = heading.cloneNode(true);
    copy.querySelectorAll(".headerlink").forEach((link) => link.remove());
    return copy.textContent.trim();
  }

  function kindOf(control) {
    if (control.getAttribute("role") === "slider") return "Slider";
    if (control.tagName === "SELECT") return control.size > 1 ? "List" : "Choice";
    if (control.type === "checkbox") return "Checkbox";
    return "Text box";
  }

  /** A label's text, or "" when ipywidgets hid it (no description: display none and a
   * zero-width space). A label inside a closed tab or accordion still counts. */
  function labelText(label) {
    if (!label || label.style.display === "none") return "";
    return label.textContent.replace(/\u200b/g, "").trim();
  }

  /** Named already: by ARIA, or by a shown <label> (for= or wrapped around it). */
  function isNamed(control) {
    if (control.getAttribute("aria-label") || control.getAttribute("aria-labelledby")) {
      return true;
    }
    return [...(control.labels || [])].some((label) => labelText(label) !== "");
  }

  /** The widget's own shown label: the .widget-label of the smallest widget around it. */
  function widgetLabel(control) {
    const widget = control.closest(".jupyter-widgets");
    const label = widget && widget.querySelector(":scope > .widget-label");
    return labelText(label) ? label : null;
  }

  function tooltip(control) {
    const widget = control.closest(".jupyter-widgets");
    const title = widget && widget.getAttribute("title");
    return title && title !== "null" ? title : null;
  }

  function nameControl(control) {
    if (isNamed(control)) return;
    const label = widgetLabel(control);
    if (label) {
      label.id = label.id || `widget-label-${nextId++}`;
      control.setAttribute("aria-labelledby", label.id);
      return;
    }
    const name = tooltip(control) || `${kindOf(control)} in “${sectionTitle(control)}”`;
    control.setAttribute("aria-label", name);
  }

  function nameImage(image) {
    if (image.hasAttribute("alt")) return;
    image.setAttribute(
      "alt",
      tooltip(image) || `Chart drawn by the widget in “${sectionTitle(image)}”`,
    );
  }

  function nameWidgets() {
    document.querySelectorAll(".widget-subarea").forEach((area) => {
      area.querySelectorAll('[title="null"]').forEach((el) => el.removeAttribute("title"));
      area.querySelectorAll(CONTROLS).forEach(nameControl);
      area.querySelectorAll("img.widget-image").forEach(nameImage);
    });
  }

  // html-manager draws after the load event and redraws parts later (tabs, accordions).
  new MutationObserver(nameWidgets).observe(document.body, { childList: true, subtree: true });
  nameWidgets();
})();
