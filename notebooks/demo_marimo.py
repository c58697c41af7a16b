import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _(mo):
    mo.md(
        """
        # twilio-widget in marimo

        The same phone panel as in Jupyter, wrapped with `mo.ui.anywidget`. It runs on the
        **offline sandbox**: calls ring and connect, messages are delivered, nothing leaves the
        machine. Click a field button or a tab, call, text: the cell below reads it all back
        from Python.

        Run it with `make demo-marimo`, or `marimo edit notebooks/demo_marimo.py`.
        """
    )
    return


@app.cell
def _():
    import json

    import marimo as mo
    import pandas as pd

    from twilio_widget import TwilioPhone

    return TwilioPhone, json, mo, pd


@app.cell
def _(TwilioPhone, pd):
    leads = pd.DataFrame(
        {
            "name": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson"],
            "company": ["Analytical Engines", "Bletchley Labs", "Compiler Corp", "Orbital Mechanics"],
            "mobile": ["(415) 555-0100", "415.555.0101", None, "+1 202 555 0143"],
            "office": ["+44 20 7946 0018", "", "+1 212 555 0199", "(757) 555-0110"],
        },
        index=pd.Index([101, 102, 103, 104], name="lead_id"),
    )
    phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], name="name", view=["name", "company"])
    return (phone,)


@app.cell
def _(mo, phone):
    # The panel's clicks change the widget's traits; marimo re-runs the cells that read `panel`.
    panel = mo.ui.anywidget(phone)
    panel
    return (panel,)


@app.cell
def _(mo):
    read_back = mo.ui.button(label="Read Python state", value=0, on_click=lambda n: n + 1)
    read_back
    return (read_back,)


@app.cell
def _(json, mo, panel, phone, read_back):
    # Re-runs on a click in the panel (`panel.value`) or on the button; reads the phone itself.
    _ = panel.value, read_back.value
    state = {
        "selected_number": phone.selected_number,
        "tab": phone.tab,
        "contact": phone.current,
        "call_status": phone.call.get("status"),
        "last_message": phone.thread[-1]["body"] if phone.thread else None,
    }
    mo.vstack([mo.md("**What Python sees**"), mo.plain_text(json.dumps(state, indent=1))])
    return


if __name__ == "__main__":
    app.run()
