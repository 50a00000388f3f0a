"""The campaign model: pydantic v2, ``extra="forbid"`` everywhere, so a typo is an error.

Every key maps to a documented ``addVoucherInfo`` field or to the plan. What can be
checked without the spreadsheets is checked here; what needs them is the plan's job.
Validation context (optional): ``today`` (a :class:`datetime.date`, default today in
Beijing) and ``issues`` (a list that receives cross-reference :class:`Issue` values instead
of raising them, so that a loader can report them with every other problem in one pass).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SecretStr,
    Tag,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from runner.api import DEFAULT_BASE_URL, ENV_BASE_URL
from runner.campaign._issue import line_of
from runner.campaign._notify import NotifyTarget
from runner.campaign._refs import cross_check
from runner.campaign._types import (
    AutoOrCount,
    BaseUrl,
    ColumnName,
    DateText,
    IdText,
    Key,
    ListText,
    LongText,
    Money,
    Percent,
    PositiveInt,
    PositiveNumber,
    Quantity,
    SheetRef,
    ShortText,
    Text,
    Threshold,
    fail,
)
from runner.clock import beijing_today
from runner.errors import Location
from runner.keys import KeyKind
from runner.sheets import SPREADSHEET_SUFFIXES, is_csv, quoted

__all__ = [
    "ApiSettings",
    "AudienceSpec",
    "Budget",
    "Campaign",
    "CustomerScope",
    "Customers",
    "Discount",
    "DiscountFixed",
    "DiscountRatio",
    "Grant",
    "Products",
    "ProductsAll",
    "ProductsByBrand",
    "ProductsByCode",
    "ProductsByType",
    "Voucher",
    "beijing_today",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _list(description: str) -> Any:
    return Field(default_factory=list, description=description)


# --- api and budget -------------------------------------------------------------------------


class ApiSettings(_Model):
    """How to reach the vendor API; WAIQIN_* environment variables fill what is left out."""

    base_url: BaseUrl = Field(
        DEFAULT_BASE_URL,
        description=f"OpenAPI address from the admin console (default {ENV_BASE_URL} or "
        f"{DEFAULT_BASE_URL}).",
    )
    openid: Text | None = Field(
        None, description="The tenant's openid, e.g. ${WAIQIN_OPENID} (default WAIQIN_OPENID)."
    )
    appkey: (
        Annotated[
            SecretStr,
            WithJsonSchema({"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$"}),
        ]
        | None
    ) = Field(
        None,
        description="The signing secret: only a ${VAR} reference such as ${WAIQIN_APPKEY} is "
        "accepted, never a literal (default WAIQIN_APPKEY).",
    )
    rate: PositiveNumber = Field(5.0, description="Requests per second, all endpoints together.")
    concurrency: PositiveInt = Field(4, description="Requests in flight at the same time.")
    timeout_s: PositiveNumber = Field(15.0, description="Seconds to wait for one response.")
    max_attempts: PositiveInt = Field(6, description="Tries per call before giving up on it.")
    settle_s: PositiveNumber | None = Field(
        None,
        description="Seconds between the two remote reads that must agree before a grant "
        "or voucher whose answer was lost is declared absent and sent again (default: "
        "timeout_s). Longer is safer against a vendor that applies requests late; shorter "
        "resumes faster.",
    )
    transient_messages: list[Text] = _list(
        "Refusal messages (return_msg) worth retrying, e.g. 系统繁忙."
    )


class Budget(_Model):
    """Guards checked when planning, before anything is sent."""

    max_face_value: Money | None = Field(
        None, description="Refuse the plan if money × planned grants exceeds this amount."
    )


# --- audiences ------------------------------------------------------------------------------


class AudienceSpec(_Model):
    """An ``audiences`` entry: which customer spreadsheet, and how its columns map to our
    names (:func:`runner.sheets.read_audience` reads it into an ``AudienceTable``)."""

    file: Text = Field(
        description="CSV or XLSX file, relative to the campaign file; it must be inside the "
        "campaign file's folder (or `audience_root`)."
    )
    sheet: SheetRef | None = Field(
        None,
        description="XLSX only: sheet name or 0-based index (default: the first visible "
        "sheet, the one Excel opens on; hidden sheets before it are skipped).",
    )
    encoding: Literal["auto", "utf-8", "gb18030"] = Field(
        "auto", description="CSV only: text encoding; auto tries UTF-8, then GB18030."
    )
    key: KeyKind = Field(
        description="Which customer identifier the grants send (cmId, cmCode or cmSourceCode)."
    )
    columns: dict[ColumnName, Text] = Field(
        min_length=1,
        description="Our column names → the spreadsheet's header text; must include the key.",
    )
    header_row: PositiveInt = Field(
        1,
        description="The row (1-based, as Excel shows it; the line of a CSV) that holds the "
        "headers; rows above it, such as a row of notes, are skipped (default 1).",
    )
    formulas: Literal["refuse", "cached"] = Field(
        "refuse",
        description="XLSX only: a formula cell in a mapped column is refused (default), or "
        "with `cached` its value as last saved in the file is used (a formula without a "
        "saved value is still refused).",
    )
    _name: str = PrivateAttr(default="")
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("file")
    @classmethod
    def _known_suffix(cls, value: str) -> str:
        if Path(value).suffix.lower() not in SPREADSHEET_SUFFIXES:
            known = ", ".join(sorted(SPREADSHEET_SUFFIXES))
            raise fail(
                f"{quoted(value, 80)} is not a spreadsheet file ({known})",
                "Export it as XLSX or CSV.",
            )
        return value

    @field_validator("sheet")
    @classmethod
    def _sheet_for_xlsx(cls, value: str | int | None, info: ValidationInfo) -> str | int | None:
        file = info.data.get("file")
        if value is not None and isinstance(file, str) and is_csv(file):
            raise fail("sheet applies only to XLSX files", "Remove `sheet:` for a CSV file.")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding_for_csv(cls, value: str, info: ValidationInfo) -> str:
        file = info.data.get("file")
        if value != "auto" and isinstance(file, str) and not is_csv(file):
            raise fail("encoding applies only to CSV files", "Remove `encoding:` for XLSX.")
        return value

    @field_validator("formulas")
    @classmethod
    def _formulas_for_xlsx(cls, value: str, info: ValidationInfo) -> str:
        file = info.data.get("file")
        if value != "refuse" and isinstance(file, str) and is_csv(file):
            raise fail("formulas applies only to XLSX files", "Remove `formulas:` for a CSV.")
        return value

    @field_validator("columns")
    @classmethod
    def _key_is_mapped(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        key = info.data.get("key")
        if isinstance(key, str) and key not in value:
            raise fail(
                f"the key column '{key}' is not mapped",
                f"Add `{key}: <header text>` under columns, naming the spreadsheet column.",
            )
        return value

    @property
    def name(self) -> str:
        """The audience's key in the campaign file."""
        return self._name

    @property
    def kind(self) -> Literal["csv", "xlsx"]:
        """``csv`` or ``xlsx`` (any Excel workbook), from the file suffix."""
        return "csv" if is_csv(self.file) else "xlsx"

    @property
    def path(self) -> Path:
        """The spreadsheet's path, resolved relative to the campaign file."""
        base = self._base_dir if self._base_dir is not None else Path.cwd()
        return (base / self.file).resolve()


# --- customers ------------------------------------------------------------------------------

_DIMENSIONS: tuple[tuple[str, str, str, str], ...] = (
    ("levels", "level_ids", "cmLevelName", "cmLevelId"),
    ("types", "type_ids", "cmTypeName", "cmTypeId"),
    ("depts", "dept_ids", "cmDeptName", "cmDeptId"),
    ("labels", "label_ids", "cmLabelName", "cmLabelId"),
    ("districts", "district_ids", "cmDistrictName", "cmDistrictId"),
)


class CustomerScope(_Model):
    """tradeRange 1: every customer matching these levels, types, departments, labels, areas."""

    levels: list[ListText] = _list("Customer level names (cmLevelName).")
    level_ids: list[IdText] = _list("Customer level ids (cmLevelId).")
    types: list[ListText] = _list("Customer type names (cmTypeName).")
    type_ids: list[IdText] = _list("Customer type ids (cmTypeId).")
    depts: list[ListText] = _list("Customer department names (cmDeptName).")
    dept_ids: list[IdText] = _list("Customer department ids (cmDeptId).")
    labels: list[ListText] = _list("Customer label names (cmLabelName).")
    label_ids: list[IdText] = _list("Customer label ids (cmLabelId).")
    districts: list[ListText] = _list("Sales district names (cmDistrictName).")
    district_ids: list[IdText] = _list("Sales district ids (cmDistrictId).")

    @model_validator(mode="after")
    def _names_or_ids(self) -> CustomerScope:
        for names, ids, _, _ in _DIMENSIONS:
            if getattr(self, names) and getattr(self, ids):
                raise fail(
                    f"give either {names} or {ids}, not both",
                    "The API silently prefers the ids; keep the one you mean.",
                )
        return self

    def is_empty(self) -> bool:
        """True when no dimension names anything."""
        return not any(getattr(self, f) for dim in _DIMENSIONS for f in dim[:2])

    def wire_fields(self) -> dict[str, str]:
        """The cm*Name / cm*Id fields, each list joined by commas."""
        out: dict[str, str] = {}
        for names, ids, name_field, id_field in _DIMENSIONS:
            if getattr(self, names):
                out[name_field] = ",".join(getattr(self, names))
            if getattr(self, ids):
                out[id_field] = ",".join(getattr(self, ids))
        return out


def _plain(amount: str) -> str:
    """An amount without trailing zeros, as a voucher's name writes it: 10.00 → 10."""
    return format(Decimal(amount).normalize(), "f")


def _customers_kind(value: Any) -> str | None:
    """Text is the word ``specific``, a mapping a scope; anything else is neither."""
    if isinstance(value, str):
        return "specific"
    return "CustomerScope" if isinstance(value, dict) else None


Customers = Annotated[
    Annotated[Literal["specific"], Tag("specific")]
    | Annotated[CustomerScope, Tag("CustomerScope")],
    Discriminator(
        _customers_kind,
        custom_error_type="spec",
        custom_error_message="{message}",
        custom_error_context={
            "message": "must be 'specific' or a customer scope (a mapping)",
            "hint": "Write `customers: specific` for the customers the grants name, or a "
            "scope such as `customers: {levels: [A, B]}` for every customer of those levels "
            "(`runner schema` lists levels, types, depts, labels, districts).",
            "show_input": True,
        },
    ),
]
"""``"specific"`` (tradeRange 2: the customers the grants name) or a :class:`CustomerScope`."""


# --- products -------------------------------------------------------------------------------


class _Listed(_Model):
    """A product selection given either by names (or codes) or by ids, not both."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Any:
        mode = self.__dict__["mode"]
        lists = [name for name in type(self).model_fields if name != "mode"]
        given = [name for name in lists if getattr(self, name)]
        if len(given) != 1:
            raise fail(
                f"products with mode {mode} need exactly one non-empty list: {' or '.join(lists)}",
                f"e.g. {{mode: {mode}, {lists[0]}: [...]}}",
            )
        return self


class ProductsAll(_Model):
    """Every product (prodMode ALL)."""

    mode: Literal["ALL"] = Field(description="ALL: every product.")


class ProductsByCode(_Listed):
    """Listed products (prodMode PRODUCT), by code or by id."""

    mode: Literal["PRODUCT"] = Field(description="PRODUCT: listed products.")
    codes: list[ListText] | None = Field(None, description="Product codes (prodCode).")
    ids: list[IdText] | None = Field(None, description="Product ids (prodId).")


class ProductsByBrand(_Listed):
    """Products of some brands (prodMode BRAND), by name or by id."""

    mode: Literal["BRAND"] = Field(description="BRAND: products of these brands.")
    names: list[ListText] | None = Field(None, description="Brand names (prodBrandName).")
    ids: list[IdText] | None = Field(None, description="Brand ids (prodBrandId).")


class ProductsByType(_Listed):
    """Products of some product types (prodMode TYPE), by name or by id."""

    mode: Literal["TYPE"] = Field(description="TYPE: products of these product types.")
    names: list[ListText] | None = Field(None, description="Product type names (prodTypeName).")
    ids: list[IdText] | None = Field(None, description="Product type ids (prodTypeId).")


Products = Annotated[
    ProductsAll | ProductsByCode | ProductsByBrand | ProductsByType, Field(discriminator="mode")
]

_PRODUCT_FIELDS: dict[tuple[str, str], str] = {
    ("PRODUCT", "codes"): "prodCode",
    ("PRODUCT", "ids"): "prodId",
    ("BRAND", "names"): "prodBrandName",
    ("BRAND", "ids"): "prodBrandId",
    ("TYPE", "names"): "prodTypeName",
    ("TYPE", "ids"): "prodTypeId",
}


def _product_fields(
    products: ProductsAll | ProductsByCode | ProductsByBrand | ProductsByType,
) -> dict[str, str]:
    out: dict[str, str] = {"prodMode": products.mode}
    for name in type(products).model_fields:
        values = getattr(products, name)
        if name != "mode" and values:
            out[_PRODUCT_FIELDS[(products.mode, name)]] = ",".join(values)
    return out


# --- discounts ------------------------------------------------------------------------------


class DiscountFixed(_Model):
    """A fixed face value off (discountsType GDMZ): the voucher's money."""

    type: Literal["GDMZ"] = Field(description="GDMZ: the face value (money) is taken off.")


class DiscountRatio(_Model):
    """A percentage of the order (discountsType ZKBL), optionally capped."""

    type: Literal["ZKBL"] = Field(description="ZKBL: the order is multiplied by percent.")
    percent: Percent = Field(description="The ratio paid, in (0, 1], at most 4 decimals.")
    max_amount: Money | None = Field(None, description="The largest discount (maxDiscountsAmount).")


Discount = Annotated[DiscountFixed | DiscountRatio, Field(discriminator="type")]


# --- vouchers -------------------------------------------------------------------------------


class Voucher(_Model):
    """One voucher to create with addVoucherInfo; the key under ``vouchers`` is stable."""

    name: ShortText = Field(description="Voucher name shown to customers (≤ 32 characters).")
    start_date: DateText = Field(description="First valid day, yyyy-MM-dd.")
    end_date: DateText = Field(description="Last valid day, yyyy-MM-dd; not before start_date.")
    money: Money = Field(description='Face value, > 0, at most 2 decimals, e.g. "10.00".')
    # discount comes before doorsill_amount: the threshold's rule depends on it
    discount: Discount = Field(
        default_factory=lambda: DiscountFixed(type="GDMZ"),
        description="{type: GDMZ} (default) or {type: ZKBL, percent, max_amount}.",
    )
    doorsill_amount: Threshold | None = Field(
        None,
        description="Minimum order amount; omitted or 0: no threshold (doorsillType N). "
        "With a fixed face value (GDMZ) it is at least money.",
    )
    pay_type: Literal["UNLIMITED", "ONLINE"] = Field(
        "UNLIMITED", description="Payment restriction: UNLIMITED or ONLINE."
    )
    grant_type: Literal["ZDLQ", "HDFF", "THIRDPARTY"] = Field(
        description="ZDLQ (customers claim it), HDFF (granted by a campaign) or THIRDPARTY."
    )
    customers: Customers = Field(
        description="'specific' (tradeRange 2: the customers the grants name) or a scope "
        "(tradeRange 1) such as {levels: [A], types: [陶瓷店]}."
    )
    products: Products = Field(
        description="{mode: ALL} or {mode: PRODUCT, codes|ids}, {mode: BRAND, names|ids}, "
        "{mode: TYPE, names|ids}."
    )
    each_customer_limit: AutoOrCount = Field(
        "auto", description="eachCmNum; auto = the largest planned quantity of one customer."
    )
    total: AutoOrCount = Field("auto", description="num; auto = the number of planned grants.")
    remark: LongText | None = Field(None, description="Usage notes (≤ 1000 characters).")
    comment: LongText | None = Field(None, description="Internal comment (≤ 1000 characters).")
    business_from_name: ShortText | None = Field(
        None, description="Business source name (≤ 32 characters)."
    )
    auto_receive: Literal["Y", "N"] | None = Field(
        None, description="Y: customers receive it automatically; N: they do not."
    )
    finished: bool = Field(
        False,
        description="true: stop the created voucher (finishVoucher); it takes no more grants. "
        "Cannot be undone.",
    )
    _key: str = PrivateAttr(default="")

    @field_validator("end_date")
    @classmethod
    def _end_date(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if isinstance(start, date) and value < start:
            raise fail(
                f"end_date {value} is before start_date {start}",
                "Swap them, or move end_date to start_date or later.",
            )
        context = info.context if isinstance(info.context, dict) else {}
        today = context.get("today") or beijing_today()
        if value < today and not context.get("past_end_ok"):
            raise fail(
                f"end_date {value} is in the past (today is {today} in Beijing)",
                "Move end_date to today or later.",
            )
        return value

    @field_validator("doorsill_amount")
    @classmethod
    def _doorsill_covers_money(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The tool's own rule; the vendor's document is silent on it. A fixed face value
        # (GDMZ) above its threshold ("满5减10") takes more off than the order is worth, so
        # it is refused before anything is sent. 0 (no threshold) and a threshold equal to
        # the face value are fine; a ratio (ZKBL) never takes off more than the order.
        money, discount = info.data.get("money"), info.data.get("discount")
        if value is None or money is None or not isinstance(discount, DiscountFixed):
            return value
        if Decimal(0) < Decimal(value) < Decimal(money):
            raise fail(
                f"doorsill_amount {value} is below the face value (money) {money}: {money} "
                f"off orders of {value} or more (满{_plain(value)}减{_plain(money)}) gives "
                "more than is spent. This tool refuses a threshold below the face value (its "
                "own rule: the vendor's document does not say)",
                f"Write the order amount the voucher is for, at least {money} (e.g. "
                'doorsill_amount: "100" for 满100减10), and run again.',
            )
        return value

    @field_validator("customers")
    @classmethod
    def _customers(cls, value: str | CustomerScope, info: ValidationInfo) -> str | CustomerScope:
        if info.data.get("grant_type") != "ZDLQ":
            return value
        if value == "specific":
            raise fail(
                "grant_type ZDLQ (customers claim it) needs a customer scope, not 'specific'",
                "Give customers: {levels: [...], types: [...]}, or use grant_type HDFF.",
            )
        if isinstance(value, CustomerScope) and value.is_empty():
            raise fail(
                "grant_type ZDLQ needs a non-empty customer scope",
                "Name at least one level, type, department, label or district.",
            )
        return value

    @field_validator("total")
    @classmethod
    def _total(cls, value: str | int, info: ValidationInfo) -> str | int:
        each = info.data.get("each_customer_limit")
        if isinstance(value, int) and isinstance(each, int) and each > value:
            raise fail(
                f"total {value} is smaller than each_customer_limit {each}",
                "Raise total, or lower each_customer_limit.",
            )
        return value

    @property
    def key(self) -> str:
        """The voucher's key in the campaign file."""
        return self._key

    @property
    def trade_range(self) -> Literal["1", "2"]:
        """``"2"`` for specific customers, ``"1"`` for a customer scope."""
        return "2" if self.customers == "specific" else "1"

    @property
    def doorsill_type(self) -> Literal["Y", "N"]:
        """``"Y"`` when a threshold above 0 is set, else ``"N"``."""
        amount = self.doorsill_amount
        return "Y" if amount is not None and float(amount) > 0 else "N"

    def wire_fields(self) -> dict[str, str]:
        """The addVoucherInfo fields that come from the file (not num/eachCmNum/cmId/cmCode)."""
        out: dict[str, str] = {
            "name": self.name,
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
            "money": self.money,
            "doorsillType": self.doorsill_type,
        }
        if self.doorsill_type == "Y" and self.doorsill_amount is not None:
            out["doorsillAmount"] = self.doorsill_amount
        out["payType"] = self.pay_type
        if self.remark:
            out["remark"] = self.remark
        out["grantType"] = self.grant_type
        out["tradeRange"] = self.trade_range
        if isinstance(self.customers, CustomerScope):
            out.update(self.customers.wire_fields())
        out.update(_product_fields(self.products))
        optional = {
            "businessFromName": self.business_from_name,
            "comment": self.comment,
            "autoReceive": self.auto_receive,
        }
        out.update({k: v for k, v in optional.items() if v})
        out["discountsType"] = self.discount.type
        if isinstance(self.discount, DiscountRatio):
            out["discountsPercent"] = self.discount.percent
            if self.discount.max_amount is not None:
                out["maxDiscountsAmount"] = self.discount.max_amount
        return out


# --- grants and the campaign ----------------------------------------------------------------


class Grant(_Model):
    """Grant a voucher to (some of) an audience's customers, quantity each."""

    voucher: Text = Field(description="A key under vouchers.")
    audience: Text = Field(description="A key under audiences.")
    where: Text | None = Field(
        None, description="Row filter: SQL over the audience's mapped column names."
    )
    quantity: Quantity = Field(
        1, description="Vouchers per customer: a number ≥ 1, or a mapped column name."
    )


class Campaign(_Model):
    """A voucher campaign: who gets which vouchers, and how to reach the API."""

    campaign: Key = Field(description="Campaign id (letters, digits, '-', '_'); the ledger key.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="API connection settings.")
    state_dir: Text | None = Field(
        None,
        description="Where the ledger and result files live, relative to this file "
        "(default: state/ next to it); --state-dir overrides it.",
    )
    budget: Budget | None = Field(None, description="Optional guards checked when planning.")
    audience_root: Text | None = Field(
        None,
        description="The folder every audience file must be inside, relative to this file "
        "(e.g. `..` for spreadsheets kept next to the campaigns folder). Default: the "
        "campaign file's own folder. Paths that leave it (`../x.csv`, absolute paths, "
        "symlinks pointing out) are refused.",
    )
    audiences: dict[Key, AudienceSpec] = Field(
        default_factory=dict, description="Customer spreadsheets, by key."
    )
    vouchers: dict[Key, Voucher] = Field(min_length=1, description="Vouchers to create, by key.")
    grants: list[Grant] = _list("Which audience gets which voucher, and how many.")
    notify: list[NotifyTarget] = _list(
        "Webhooks told when a drop is rejected, awaits approval, is done, fails or needs "
        "review (runner watch), e.g. [{url: ${WECOM_WEBHOOK}, format: wecom}]."
    )
    _source: Path | None = PrivateAttr(default=None)
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _unset_credentials: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _cross_references(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        issues = cross_check(data) if isinstance(data, dict) else []
        sink = info.context.get("issues") if isinstance(info.context, dict) else None
        if isinstance(sink, list):
            sink.extend(issues)
        result = handler(data)
        if issues and not isinstance(sink, list):
            raise fail("; ".join(f"{i.yaml_path}: {i.message}" for i in issues))
        return result

    def model_post_init(self, context: Any, /) -> None:
        """Tell every voucher and audience its key."""
        for key, voucher in self.vouchers.items():
            voucher._key = key
        for key, audience in self.audiences.items():
            audience._name = key

    def attach_source(
        self, source: Path, lines: dict[str, int], unset_credentials: dict[str, str] | None = None
    ) -> None:
        """Remember the file the campaign came from, its key-path → line map, and the
        credential variables it refers to that are unset."""
        self._source = source
        self._lines = dict(lines)
        self._unset_credentials = dict(unset_credentials or {})
        for audience in self.audiences.values():
            audience._base_dir = self.base_dir

    @property
    def unset_credentials(self) -> dict[str, str]:
        """``{"openid"|"appkey": VAR}``: credentials the file refers to whose variable is
        unset. Fine for planning; the commands that call the API refuse to start."""
        return dict(self._unset_credentials)

    @property
    def id(self) -> str:
        """The campaign id (the ``campaign:`` key)."""
        return self.campaign

    @property
    def source(self) -> Path | None:
        """The campaign file, as given to :func:`load_campaign`."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """The directory audience files are relative to: the campaign file's directory."""
        return self._source.resolve().parent if self._source is not None else Path.cwd()

    @property
    def audience_folder(self) -> Path:
        """The folder every audience file must be inside: ``audience_root`` (relative to
        the campaign file) or the campaign file's folder, symlinks resolved."""
        if self.audience_root is None:
            return self.base_dir
        return (self.base_dir / self.audience_root).resolve()

    def line_of(self, yaml_path: str) -> int | None:
        """The 1-based line of a key path, or of its nearest enclosing key that exists."""
        return line_of(self._lines, yaml_path)

    def location(self, yaml_path: str) -> Location:
        """A :class:`Location` for a key path of this campaign, for plan-level errors."""
        file = str(self._source) if self._source is not None else None
        return Location(file=file, yaml_path=yaml_path, line=self.line_of(yaml_path))

    def grants_for(self, voucher_key: str) -> list[tuple[int, Grant]]:
        """The grants (with their index in ``grants``) that name a voucher."""
        return [(i, g) for i, g in enumerate(self.grants) if g.voucher == voucher_key]
