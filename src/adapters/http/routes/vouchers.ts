// Voucher routes: products and PIN batches (operators), sales and voids (terminals, retailers),
// redemption (switches), floats, commission rules and reports. A clear PIN appears only in a
// sale's response and in a batch export, which is recorded in the audit log; errors and logs name
// PINs by serial.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parse } from 'csv-parse/sync';
import { Type } from 'typebox';
import type { Batch, Product, Sale } from '../../../core/vouchers/voucher-types.ts';
import type { ImportRow } from '../../../core/vouchers/vouchers.ts';
import type { Services } from '../../../services.ts';
import { isEmailAddress } from '../../delivery/email.ts';
import { normalizePhoneNumber } from '../../delivery/phone-number.ts';
import { renderReceiptPdf, renderReceiptText } from '../../delivery/receipt.ts';
import { callerOf, sendError, sendRefusal } from '../reply.ts';
import { amountOf, currencyOf, idempotencyKeyOf } from '../request-parsing.ts';
import { IdempotencyHeaders, IdParams, refusalResponses, TransferView } from '../schemas.ts';
import { iso, sendTable, transferJson } from '../views.ts';
import {
  BatchView,
  CommissionRuleBody,
  CreateBatchBody,
  CreateProductBody,
  DepositBody,
  ImportBatchBody,
  OpenFloatBody,
  ProductView,
  RedeemBody,
  RedemptionView,
  ReportQuery,
  SaleView,
  SellBody,
  Serial,
  SoldView,
} from '../voucher-schemas.ts';

const errors = refusalResponses;

/** Carrier files sent over HTTP may be larger than ordinary requests; bigger ones go through the CLI. */
const importBodyLimitBytes = 16 * 1024 * 1024;

export function productJson(p: Product) {
  return {
    id: p.id,
    name: p.name,
    carrier_id: p.carrierId,
    currency: p.currency,
    face_value: p.faceValueMinor.toString(),
    validity_days: p.validityDays,
    pin_length: p.pinFormat.length,
    pin_alphabet: p.pinFormat.alphabet,
    pin_check: p.pinFormat.check,
    access_number: p.accessNumber,
    mode: p.mode,
    instructions: p.instructions,
    low_stock_threshold: p.lowStockThreshold,
    status: p.status,
    created_at: iso(p.createdAtMs),
  };
}

export function batchJson(b: Batch) {
  return {
    id: b.id,
    product_id: b.productId,
    serial_prefix: b.serialPrefix,
    count_requested: b.countRequested,
    count_created: b.countCreated,
    source: b.source,
    frozen: b.frozen,
    created_by: b.createdBy,
    created_at: iso(b.createdAtMs),
  };
}

export function saleJson(s: Sale) {
  return {
    id: s.id,
    status: s.status,
    product_id: s.productId,
    serial: s.serial,
    retailer_id: s.retailerId,
    currency: s.currency,
    face_value: s.faceValueMinor.toString(),
    retailer_commission: s.retailerCommissionMinor.toString(),
    distributor_id: s.distributorId,
    distributor_commission: s.distributorCommissionMinor.toString(),
    expires_at: s.expiresAtMs === null ? null : iso(s.expiresAtMs),
    created_at: iso(s.createdAtMs),
    voided_at: s.voidedAtMs === null ? null : iso(s.voidedAtMs),
  };
}

const dayMs = 86_400_000;
const dateMs = (text: string | undefined, add = 0) =>
  text === undefined ? undefined : Date.parse(`${text}T00:00:00Z`) + add;

export const voucherRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { vouchers } = services;

  app.post(
    '/v1/products',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: 'Create a product: carrier, face value, PIN format, redemption mode',
        body: CreateProductBody,
        response: { 201: ProductView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await vouchers.createProduct(callerOf(request), {
        id: b.id,
        name: b.name,
        carrierId: b.carrier_id ?? null,
        currency: currencyOf(b.currency),
        faceValueMinor: amountOf(b.face_value),
        validityDays: b.validity_days ?? null,
        pinLength: b.pin_length,
        pinAlphabet: b.pin_alphabet ?? 'digits',
        pinCheck: b.pin_check ?? 'damm',
        accessNumber: b.access_number ?? null,
        mode: b.mode,
        instructions: b.instructions,
        lowStockThreshold: b.low_stock_threshold,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.status(201).send(productJson(result.value));
    },
  );

  app.get(
    '/v1/products',
    {
      config: { scope: 'vouchers:read' },
      schema: {
        tags: ['vouchers'],
        summary: 'Products',
        response: { 200: Type.Object({ items: Type.Array(ProductView) }), ...errors },
      },
    },
    async () => ({ items: (await vouchers.listProducts()).map(productJson) }),
  );

  app.get(
    '/v1/products/:id',
    {
      config: { scope: 'vouchers:read' },
      schema: {
        tags: ['vouchers'],
        summary: 'A product',
        params: IdParams,
        response: { 200: ProductView, ...errors },
      },
    },
    async (request, reply) => {
      const product = await vouchers.getProduct(request.params.id);
      if (!product) return sendError(reply, 'product_not_found');
      return productJson(product);
    },
  );

  app.post(
    '/v1/batches',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: 'Generate a batch of PINs for a product (the pool sales draw from)',
        body: CreateBatchBody,
        response: { 201: BatchView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await vouchers.createBatch(callerOf(request), {
        productId: request.body.product_id,
        count: request.body.count,
        serialPrefix: request.body.serial_prefix,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.status(201).send(batchJson(result.value));
    },
  );

  app.post(
    '/v1/batches/import',
    {
      bodyLimit: importBodyLimitBytes,
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: 'Import a carrier PIN file (CSV: serial, pin, optional expires_at)',
        description:
          'Every row is checked first; with any problem, or with dry_run, nothing is written.',
        body: ImportBatchBody,
      },
    },
    async (request, reply) => {
      let rows: ImportRow[];
      try {
        const records: Array<Record<string, string>> = parse(request.body.csv, {
          columns: true,
          skip_empty_lines: true,
          trim: true,
        });
        rows = records.map((r) => ({
          serial: r.serial ?? '',
          pin: r.pin ?? '',
          expiresAtMs: r.expires_at ? Date.parse(r.expires_at) : null,
        }));
      } catch {
        return sendError(
          reply,
          'pin_file_invalid',
          'The file is not CSV with a header row naming serial and pin.',
        );
      }
      if (rows.some((r) => r.expiresAtMs !== null && Number.isNaN(r.expiresAtMs))) {
        return sendError(reply, 'pin_file_invalid', 'An expires_at value is not a date.');
      }
      const result = await vouchers.importPins(callerOf(request), {
        productId: request.body.product_id,
        rows,
        dryRun: request.body.dry_run ?? false,
        serialPrefix: request.body.serial_prefix,
      });
      if (!result.ok) return sendRefusal(reply, result);
      const { batch, issues, count } = result.value;
      if (!batch && issues.length > 0) {
        return reply.status(422).send({
          error: {
            code: 'pin_file_invalid',
            message: `${issues.length} problem(s); nothing was imported.`,
          },
          issues,
        });
      }
      return reply
        .status(batch ? 201 : 200)
        .send({ batch: batch ? batchJson(batch) : null, count, issues });
    },
  );

  app.get(
    '/v1/batches',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: 'Batches',
        response: { 200: Type.Object({ items: Type.Array(BatchView) }) },
      },
    },
    async () => ({ items: (await vouchers.listBatches()).map(batchJson) }),
  );

  app.get(
    '/v1/batches/:id',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: 'A batch',
        params: IdParams,
        response: { 200: BatchView, ...errors },
      },
    },
    async (request, reply) => {
      const batch = await vouchers.getBatch(request.params.id);
      if (!batch) return sendError(reply, 'batch_not_found');
      return batchJson(batch);
    },
  );

  for (const [verb, frozen] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    app.post(
      `/v1/batches/:id/${verb}`,
      {
        config: { scope: 'vouchers:admin' },
        schema: { tags: ['vouchers'], summary: `${verb} every PIN of a batch`, params: IdParams },
      },
      async (request, reply) => {
        const result = await vouchers.setFrozen(
          callerOf(request),
          { batchId: request.params.id },
          frozen,
        );
        if (!result.ok) return sendRefusal(reply, result);
        return { changed: result.value.changed };
      },
    );
    app.post(
      `/v1/vouchers/:serial/${verb}`,
      {
        config: { scope: 'vouchers:admin' },
        schema: {
          tags: ['vouchers'],
          summary: `${verb} one PIN, by serial`,
          params: Type.Object({ serial: Serial }),
        },
      },
      async (request, reply) => {
        const result = await vouchers.setFrozen(
          callerOf(request),
          { serial: request.params.serial.toUpperCase() },
          frozen,
        );
        if (!result.ok) return sendRefusal(reply, result);
        return { changed: result.value.changed };
      },
    );
  }

  app.post(
    '/v1/batches/:id/export',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: 'Export a batch with its clear PINs (recorded in the audit log)',
        params: IdParams,
        querystring: Type.Object(
          { format: Type.Optional(Type.Enum(['json', 'csv'])) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const result = await vouchers.exportBatch(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      reply.header('cache-control', 'no-store');
      return sendTable(reply, request.query.format, result.value);
    },
  );

  app.get(
    '/v1/vouchers/:serial',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['vouchers'],
        summary: "A PIN's state and history, by serial (never the PIN)",
        params: Type.Object({ serial: Serial }),
      },
    },
    async (request, reply) => {
      const result = await vouchers.voucherHistory(request.params.serial);
      if (!result.ok) return sendRefusal(reply, result);
      const { voucher, events } = result.value;
      return {
        serial: voucher.serial,
        batch_id: voucher.batchId,
        product_id: voucher.productId,
        status: voucher.status,
        frozen: voucher.frozen,
        sale_id: voucher.saleId,
        sold_at: voucher.soldAtMs === null ? null : iso(voucher.soldAtMs),
        expires_at: voucher.expiresAtMs === null ? null : iso(voucher.expiresAtMs),
        redeemed_at: voucher.redeemedAtMs === null ? null : iso(voucher.redeemedAtMs),
        account_id: voucher.accountId,
        history: events.map((e) => ({
          at: iso(e.atMs),
          action: e.action,
          principal_id: e.principalId,
          details: e.details,
        })),
      };
    },
  );

  app.post(
    '/v1/sales',
    {
      config: { scope: 'vouchers:sell' },
      schema: {
        tags: ['sales'],
        summary:
          'Sell a PIN: only when the paid amount equals the requested amount (the face value)',
        description:
          'Binds one pool PIN to its face value and debits the retailer float by the face value ' +
          'minus its commission. A retry with the same Idempotency-Key returns the same PIN.',
        headers: IdempotencyHeaders,
        body: SellBody,
        response: { 200: SoldView, 201: SoldView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const idempotencyKey = idempotencyKeyOf(request);
      let delivery: { channel: 'email' | 'sms' | 'fax'; address: string } | undefined;
      if (b.delivery) {
        const address =
          b.delivery.channel === 'email'
            ? isEmailAddress(b.delivery.address)
              ? b.delivery.address
              : undefined
            : normalizePhoneNumber(b.delivery.address);
        if (!address) return sendError(reply, 'delivery_address_invalid');
        delivery = { channel: b.delivery.channel, address };
      }
      const result = await vouchers.sell(callerOf(request), {
        productId: b.product_id,
        requestedAmountMinor: amountOf(b.requested_amount),
        paidAmountMinor: amountOf(b.paid_amount),
        idempotencyKey,
        retailerId: b.retailer_id,
        delivery,
      });
      app.metrics.countOutcome('voucher_sale', result.ok ? 'ok' : result.code);
      if (!result.ok) return sendRefusal(reply, result);
      const { sale, product, pin, replayed } = result.value;
      // Logs name the PIN by its serial only.
      request.log.info({ sale_id: sale.id, serial: sale.serial, replayed }, 'voucher sold');
      if (replayed) reply.header('idempotent-replayed', 'true');
      reply.header('cache-control', 'no-store');
      // Object.assign, not `{ ...saleJson(sale), pin }`: V8 builds that literal on a slow path.
      return reply.status(replayed ? 200 : 201).send(
        Object.assign(saleJson(sale), {
          pin,
          access_number: product.accessNumber,
          instructions: product.instructions,
        }),
      );
    },
  );

  app.get(
    '/v1/sales/:id',
    {
      config: { scope: 'vouchers:read' },
      schema: {
        tags: ['sales'],
        summary: 'A sale (without its PIN)',
        params: IdParams,
        response: { 200: SaleView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await vouchers.getSale(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      return saleJson(result.value);
    },
  );

  app.get(
    '/v1/sales/:id/receipt',
    {
      config: { scope: 'vouchers:sell' },
      schema: {
        tags: ['sales'],
        summary:
          "The buyer's receipt (text or PDF with QR and Code 128), PIN included; every print is audited",
        params: IdParams,
        querystring: Type.Object(
          { format: Type.Optional(Type.Enum(['text', 'pdf'])) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const result = await vouchers.receipt(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      reply.header('cache-control', 'no-store');
      if (request.query.format === 'pdf') {
        return reply.type('application/pdf').send(await renderReceiptPdf(result.value));
      }
      return reply.type('text/plain; charset=utf-8').send(renderReceiptText(result.value));
    },
  );

  app.post(
    '/v1/sales/:id/void',
    {
      config: { scope: 'vouchers:sell' },
      schema: {
        tags: ['sales'],
        summary: 'Void a sale within the void window, if its PIN is unused',
        description:
          'Returns the money to the float and takes back the commissions; the PIN is voided for good.',
        params: IdParams,
        response: { 200: SaleView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await vouchers.voidSale(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return saleJson(result.sale);
    },
  );

  app.post(
    '/v1/vouchers/redeem',
    {
      config: { scope: 'vouchers:redeem' },
      schema: {
        tags: ['vouchers'],
        summary: 'Redeem a PIN: top up a caller-number account, or activate a calling card',
        description:
          'Wrong, used, frozen and expired PINs all answer 422 pin_invalid. After 5 failures a ' +
          'caller (ANI) is locked for 30 minutes, after 50 a source (principal and address): ' +
          '429 redeem_locked.',
        body: RedeemBody,
        response: { 200: RedemptionView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await vouchers.redeem(callerOf(request), {
        pin: request.body.pin,
        ani: request.body.ani,
        source: request.ip,
      });
      app.metrics.countOutcome('voucher_redeem', result.ok ? 'ok' : result.code);
      if (result.ok) request.log.info({ serial: result.value.serial }, 'voucher redeemed');
      else request.log.warn({ code: result.code, ip: request.ip }, 'voucher redemption refused');
      if (!result.ok) return sendRefusal(reply, result);
      const r = result.value;
      return {
        serial: r.serial,
        product_id: r.productId,
        mode: r.mode,
        account_id: r.accountId,
        amount: r.amountMinor.toString(),
        currency: r.currency,
      };
    },
  );

  app.post(
    '/v1/floats',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['retailers'],
        summary: "Open a retailer's or distributor's float (or change its credit limit)",
        body: OpenFloatBody,
      },
    },
    async (request, reply) => {
      const result = await vouchers.openFloat(callerOf(request), {
        principalId: request.body.principal_id,
        currency: currencyOf(request.body.currency),
        creditLimitMinor: amountOf(request.body.credit_limit ?? '0'),
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.status(201).send({ account_id: result.value.accountId });
    },
  );

  app.post(
    '/v1/floats/:id/deposits',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['retailers'],
        summary: "Record a deposit into a principal's float (operator cash -> float)",
        params: IdParams,
        headers: IdempotencyHeaders,
        body: DepositBody,
        response: { 200: TransferView, 201: TransferView, ...errors },
      },
    },
    async (request, reply) => {
      const outcome = await vouchers.deposit(callerOf(request), {
        principalId: request.params.id,
        currency: currencyOf(request.body.currency),
        amountMinor: amountOf(request.body.amount),
        idempotencyKey: idempotencyKeyOf(request),
      });
      if (!outcome.ok) return sendRefusal(reply, outcome);
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(outcome.replayed ? 200 : 201).send(transferJson(outcome.transfer));
    },
  );

  app.post(
    '/v1/commission-rules',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['retailers'],
        summary: 'Add a commission rule (by level, principal, product, denomination)',
        body: CommissionRuleBody,
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await vouchers.addCommissionRule(callerOf(request), {
        level: b.level,
        rateBasisPoints: b.rate_basis_points,
        fixedMinor: amountOf(b.fixed ?? '0'),
        principalId: b.principal_id ?? null,
        productId: b.product_id ?? null,
        faceValueMinor: b.face_value === undefined ? null : amountOf(b.face_value),
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.status(201).send({ id: result.value.id });
    },
  );

  app.get(
    '/v1/commission-rules',
    {
      config: { scope: 'vouchers:admin' },
      schema: { tags: ['retailers'], summary: 'Commission rules' },
    },
    async () => ({
      items: (await vouchers.listCommissionRules()).map((r) => ({
        id: r.id,
        level: r.level,
        principal_id: r.principalId,
        product_id: r.productId,
        face_value: r.faceValueMinor?.toString() ?? null,
        rate_basis_points: r.rateBasisPoints,
        fixed: r.fixedMinor.toString(),
        created_at: iso(r.createdAtMs),
      })),
    }),
  );

  app.get(
    '/v1/reports/stock',
    {
      config: { scope: 'vouchers:admin' },
      schema: {
        tags: ['reports'],
        summary: 'Stock per product and denomination, with low-stock alerts (JSON or CSV)',
        querystring: ReportQuery,
      },
    },
    async (request, reply) => {
      const rows = (await vouchers.stockReport()).map((row) => ({
        product_id: row.product.id,
        name: row.product.name,
        face_value: row.product.faceValueMinor.toString(),
        currency: row.product.currency,
        in_stock: row.inStock,
        sold: row.sold,
        redeemed: row.redeemed,
        voided: row.voided,
        expired: row.expired,
        frozen: row.frozen,
        low_stock_threshold: row.product.lowStockThreshold,
        low_stock: row.lowStock,
      }));
      return sendTable(reply, request.query.format, rows);
    },
  );

  app.get(
    '/v1/reports/sales',
    {
      config: { scope: 'vouchers:read' },
      schema: {
        tags: ['reports'],
        summary: 'Sales per retailer, product and day (UTC), JSON or CSV',
        querystring: ReportQuery,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const rows = await vouchers.salesReport(callerOf(request), {
        retailerId: q.retailer_id,
        fromMs: dateMs(q.from),
        toMs: dateMs(q.to, dayMs),
      });
      return sendTable(
        reply,
        q.format,
        rows.map((r) => ({
          day: iso(r.day * dayMs).slice(0, 10),
          retailer_id: r.retailerId,
          product_id: r.productId,
          count: r.count,
          face_value: r.faceValueMinor.toString(),
          retailer_commission: r.retailerCommissionMinor.toString(),
          distributor_commission: r.distributorCommissionMinor.toString(),
        })),
      );
    },
  );

  app.get(
    '/v1/reports/statement',
    {
      config: { scope: 'vouchers:read' },
      schema: {
        tags: ['reports'],
        summary: "A retailer's statement: float movements, sales and commissions (JSON or CSV)",
        querystring: ReportQuery,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const caller = callerOf(request);
      const retailerId = q.retailer_id ?? caller.principal.id;
      const result = await vouchers.statement(caller, {
        retailerId,
        currency: currencyOf(q.currency ?? 'USD'),
        fromMs: dateMs(q.from),
        toMs: dateMs(q.to, dayMs),
      });
      if (!result.ok) return sendRefusal(reply, result);
      const { accountId, balance, movements, sales } = result.value;
      const lines = movements.map(({ transfer, side }) => ({
        at: iso(transfer.createdAtMs),
        transfer_id: transfer.id,
        code: transfer.code,
        memo: transfer.memo,
        amount: (side === 'credit' ? '' : '-') + transfer.amountMinor.toString(),
      }));
      if (q.format === 'csv') return sendTable(reply, 'csv', lines);
      return {
        retailer_id: retailerId,
        account_id: accountId,
        balance: {
          posted: balance.postedMinor.toString(),
          available: balance.availableMinor.toString(),
        },
        movements: lines,
        sales: sales.map(saleJson),
        totals: {
          count: sales.filter((s) => s.status === 'completed').length,
          face_value: sales
            .filter((s) => s.status === 'completed')
            .reduce((t, s) => t + s.faceValueMinor, 0n)
            .toString(),
          commission: sales
            .filter((s) => s.status === 'completed')
            .reduce((t, s) => t + s.retailerCommissionMinor, 0n)
            .toString(),
        },
      };
    },
  );
};
